import { disableWebhook, type Db, type DeliveryForAttempt } from '@hooklane/db';
import type { Logger } from 'pino';
import type { HttpAttemptResult } from './deliver.js';
import type { AttemptVerdict } from './retry-decision.js';

/**
 * The seam for per-webhook rules that are not about a single HTTP exchange: the worker tells
 * `afterAttempt` every recorded outcome. (Admission, the in-flight cap and rate_limit, is the
 * webhook's line: webhook-line.ts.)
 */

export interface AttemptOutcome {
  record: DeliveryForAttempt;
  attempt: number;
  result: HttpAttemptResult;
  verdict: AttemptVerdict;
}

export type DisabledReason = 'gone' | 'failing';

export interface DeliveryPolicies {
  afterAttempt(outcome: AttemptOutcome): Promise<void>;
}

export interface DefaultPoliciesDeps {
  db: Db;
  logger: Logger;
  /** How long every attempt of a webhook must have failed before it is turned off. */
  autoDisableAfterMs: number;
  /** Told when the service turns a webhook off, e.g. to emit `webhook.disabled`. */
  onWebhookDisabled?: (webhook: DeliveryForAttempt['webhook'], reason: DisabledReason) => Promise<void>;
}

export function createDefaultPolicies(deps: DefaultPoliciesDeps): DeliveryPolicies {
  async function turnOff(webhook: DeliveryForAttempt['webhook'], reason: DisabledReason): Promise<void> {
    const changed = await disableWebhook(deps.db, webhook.id, reason);
    if (!changed) return;
    deps.logger.warn({ webhook_id: webhook.id, reason }, 'webhook disabled');
    try {
      await deps.onWebhookDisabled?.(webhook, reason);
    } catch (err) {
      deps.logger.error({ webhook_id: webhook.id, reason, err: { message: (err as Error).message } }, 'could not announce webhook.disabled');
    }
  }

  return {
    async afterAttempt({ record, verdict, result }) {
      // A user's test ping shows them the answer; it never switches their webhook off.
      if (record.delivery.isTest || verdict.status === 'succeeded') return;
      if (verdict.status === 'failed' && verdict.reason === 'gone') {
        await turnOff(record.webhook, 'gone');
        return;
      }
      // failing_since is the start of the current run of failed attempts (as loaded before
      // this one); any success clears it, so it being old means nothing got through since.
      const since = record.webhook.failingSince;
      if (since !== null && result.startedAt.getTime() - since.getTime() >= deps.autoDisableAfterMs) {
        await turnOff(record.webhook, 'failing');
      }
    },
  };
}

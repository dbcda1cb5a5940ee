import { disableWebhook, type Db, type DeliveryForAttempt } from '@hooklane/db';
import { deliverJobId } from '@hooklane/queue';
import type { Logger } from 'pino';
import type { HttpAttemptResult } from './deliver.js';
import type { AttemptVerdict } from './schedule-retry.js';
import type { WebhookGate } from './webhook-gate.js';

/**
 * The seams for per-webhook rules that are not about a single HTTP exchange: the worker
 * asks `admit` before each attempt and tells `afterAttempt` every recorded outcome.
 */

export type Admission =
  | { go: true; release(): void | Promise<void> }
  /** Not now (rate_limit, MAX_IN_FLIGHT_PER_WEBHOOK): the same attempt runs again later; nothing fails. */
  | { go: false; retryInMs: number };

export interface AttemptOutcome {
  record: DeliveryForAttempt;
  attempt: number;
  result: HttpAttemptResult;
  verdict: AttemptVerdict;
}

export type DisabledReason = 'gone' | 'failing';

export interface DeliveryPolicies {
  admit(record: DeliveryForAttempt): Promise<Admission>;
  afterAttempt(outcome: AttemptOutcome): Promise<void>;
  /** The job `jobId` ends without an attempt (delivery finished, cancelled or stale): it stops waiting for admission. */
  abandon?(webhookId: string, jobId: string): Promise<void>;
}

export interface DefaultPoliciesDeps {
  db: Db;
  logger: Logger;
  /** How long every attempt of a webhook must have failed before it is turned off. */
  autoDisableAfterMs: number;
  /** Told when the service turns a webhook off, e.g. to emit `webhook.disabled`. */
  onWebhookDisabled?: (webhook: DeliveryForAttempt['webhook'], reason: DisabledReason) => Promise<void>;
  /** Enforces MAX_IN_FLIGHT_PER_WEBHOOK and `rate_limit` across workers; without it every attempt goes at once. */
  gate?: WebhookGate;
  /** MAX_IN_FLIGHT_PER_WEBHOOK. */
  maxInFlightPerWebhook?: number;
}

const ADMIT_NOW: Admission = { go: true, release: () => undefined };

/** On top of a webhook's timeout: loading, signing and recording one attempt. */
const ATTEMPT_OVERHEAD_MS = 2_000;
/** Waits are spread by up to this share (and at most MAX_JITTER_MS), so woken waiters do not arrive in lockstep. */
const JITTER_SHARE = 0.1;
const MAX_JITTER_MS = 250;

function withJitter(waitMs: number, random: () => number = Math.random): number {
  return Math.round(waitMs + random() * Math.min(MAX_JITTER_MS, waitMs * JITTER_SHARE + 5));
}

export function createDefaultPolicies(deps: DefaultPoliciesDeps): DeliveryPolicies {
  const { gate } = deps;
  const maxInFlight = deps.maxInFlightPerWebhook ?? 10;

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
    async admit(record) {
      if (!gate) return ADMIT_NOW;
      const answer = await gate.acquire({
        webhookId: record.webhook.id,
        maxInFlight,
        rateLimit: record.webhook.rateLimit,
        // A test ping is someone waiting on the answer: it takes the next free slot without
        // queueing behind the backlog (it still counts against both limits).
        jobId: record.delivery.isTest ? null : deliverJobId(record.delivery.id, record.delivery.attempts + 1),
        attemptBoundMs: record.webhook.timeout * 1000 + ATTEMPT_OVERHEAD_MS,
      });
      if (answer.admitted) return { go: true, release: () => answer.slot.release() };
      return { go: false, retryInMs: withJitter(answer.waitMs) };
    },

    async abandon(webhookId, jobId) {
      await gate?.leaveLine(webhookId, jobId);
    },

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

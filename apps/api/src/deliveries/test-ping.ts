import { setTimeout as sleep } from 'node:timers/promises';
import { newId } from '@hooklane/core';
import { cancelPendingDelivery, createDeliveries, enqueueCreated, type Attempt, type CreatedDelivery, type Db, type Webhook } from '@hooklane/db';
import type { AppDeps } from '../deps.js';
import { conflict, HttpError, unavailable } from '../http/errors.js';
import { toWebhookResponse } from '../webhooks/serialize.js';
import { assertWebhookReceives } from './queries.js';

export const TEST_POLL_INTERVAL_MS = 75;
/** On top of the webhook's own timeout: time for a worker to pick the job up and record it. */
export const TEST_GRACE_MS = 10_000;

export interface TestPingResult {
  delivery_id: string;
  success: boolean;
  status_code: number | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
}

type Outcome = { kind: 'attempted'; status: string; attempt: Attempt } | { kind: 'cancelled' } | { kind: 'timeout' } | { kind: 'aborted' };

async function waitForFirstAttempt(db: Db, deliveryId: string, deadline: number, signal: AbortSignal): Promise<Outcome> {
  for (;;) {
    const row = await db.delivery.findUnique({
      where: { id: deliveryId },
      select: { status: true, attempts: true, attemptLog: { where: { attempt: 1 }, take: 1 } },
    });
    const attempt = row?.attemptLog[0];
    if (row && row.attempts >= 1 && attempt) return { kind: 'attempted', status: row.status, attempt };
    if (!row || row.status === 'cancelled') return { kind: 'cancelled' };
    if (Date.now() >= deadline) return { kind: 'timeout' };
    try {
      await sleep(TEST_POLL_INTERVAL_MS, undefined, { signal });
    } catch {
      return { kind: 'aborted' };
    }
  }
}

/**
 * A ping's `data` when the caller gives no payload: the webhook as the API shows it, with its
 * `headers` values left out (names kept, values null). Those values are the receiver's
 * credentials, and a body may end up at whatever host a redirect names.
 */
export function defaultPingData(webhook: Webhook): { webhook: Record<string, unknown> } {
  const shown = toWebhookResponse(webhook);
  return { webhook: { ...shown, headers: Object.fromEntries(Object.keys(shown.headers).map((name) => [name, null])) } };
}

/** Writes the `ping` event and its one test delivery to `webhook`, in one transaction. */
async function createPingDelivery(db: Db, webhook: Webhook, payload: Record<string, unknown> | undefined): Promise<CreatedDelivery> {
  const now = new Date();
  const eventId = newId('evt');
  const [delivery] = await db.$transaction(async (tx) => {
    await tx.event.create({
      data: {
        id: eventId,
        teamId: webhook.teamId,
        projectId: webhook.projectId,
        type: 'ping',
        timestamp: now,
        data: (payload ?? defaultPingData(webhook)) as object,
        createdAt: now,
      },
    });
    const target = { teamId: webhook.teamId, webhookId: webhook.id, eventId, eventType: 'ping' };
    return createDeliveries(tx, [target], { now, isTest: true });
  });
  if (!delivery) throw new Error('the test delivery was not created');
  return delivery;
}

/**
 * Sends one `ping` through the worker, exactly as a real delivery goes (same signatures,
 * same private-address guard, same recording), and waits for the outcome. The delivery is
 * marked as a test, so the worker makes one attempt and it does not count toward the
 * webhook's failure streak. Returns null when the client went away before the outcome.
 */
export async function sendTestPing(
  deps: Pick<AppDeps, 'db' | 'outbox' | 'logger'>,
  webhook: Webhook,
  payload: Record<string, unknown> | undefined,
  signal: AbortSignal,
): Promise<TestPingResult | null> {
  const { db } = deps;
  assertWebhookReceives(webhook);
  const delivery = await createPingDelivery(db, webhook, payload);
  const deliveryId = delivery.id;

  if (!(await enqueueCreated(deps.outbox, deps.logger, [delivery]))) {
    // Nobody can send it now; a ping that arrives minutes later would only confuse.
    await cancelPendingDelivery(db, deliveryId);
    throw unavailable('The delivery queue is unavailable, try again shortly');
  }

  const deadline = Date.now() + webhook.timeout * 1000 + TEST_GRACE_MS;
  const outcome = await waitForFirstAttempt(db, deliveryId, deadline, signal);
  switch (outcome.kind) {
    case 'aborted':
      return null;
    case 'cancelled':
      throw conflict('The test delivery was cancelled: the webhook was deleted or switched off meanwhile');
    case 'timeout':
      await cancelPendingDelivery(db, deliveryId);
      throw new HttpError(
        504,
        'timeout',
        'No delivery worker made the test delivery in time; check that a worker is running',
      );
    case 'attempted': {
      const { attempt, status } = outcome;
      return {
        delivery_id: deliveryId,
        success: status === 'succeeded',
        status_code: attempt.statusCode,
        response_body: attempt.responseBody,
        duration_ms: attempt.durationMs,
        error: attempt.error,
      };
    }
  }
}

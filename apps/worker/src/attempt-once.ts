import type { DeliveryForAttempt, WokenDelivery } from '@hooklane/db';
import { enqueueDeliveries } from '@hooklane/queue';
import type { HttpAttemptResult } from './deliver.js';
import { buildDeliveryRequest } from './delivery-request.js';
import { statusClass } from './metrics.js';
import type { DeliveryContext } from './process-delivery.js';
import { recordAttemptOutcome } from './record-attempt.js';
import { attemptError, decideAfterAttempt, type AttemptVerdict } from './retry-decision.js';

/** An attempt whose HTTP exchange has ended, with what it means for the delivery, not yet recorded. */
export interface SentAttempt {
  record: DeliveryForAttempt;
  attempt: number;
  result: HttpAttemptResult;
  verdict: AttemptVerdict;
}

/**
 * One HTTP attempt, recorded, then its consequence: the next attempt queued as a delayed job
 * (it joins the webhook's line when due), the metrics and the attempt log line, and the
 * policies' reaction (auto-disable). Returns the deliveries of its fifo line woken by its end,
 * for the caller to put in the webhook's line as it frees the slot.
 */
export async function attemptOnce(ctx: DeliveryContext, record: DeliveryForAttempt, attempt: number): Promise<WokenDelivery[]> {
  return recordSentAttempt(ctx, await sendAttempt(ctx, record, attempt));
}

/** The HTTP exchange of one attempt and its verdict. */
export async function sendAttempt(ctx: DeliveryContext, record: DeliveryForAttempt, attempt: number): Promise<SentAttempt> {
  const request = buildDeliveryRequest(record, attempt, new Date());
  const result = await ctx.http.send(request);
  return { record, attempt, result, verdict: decideAfterAttempt(record, attempt, result) };
}

/** `attemptOnce` after the exchange: the record and everything that follows from it. */
export async function recordSentAttempt(ctx: DeliveryContext, sent: SentAttempt): Promise<WokenDelivery[]> {
  const { record, attempt, result, verdict } = sent;
  const { recorded, woken } = await recordAttemptOutcome(ctx.recorder, record, attempt, result, verdict);
  if (!recorded) {
    ctx.logger.info(recordFields(record, attempt), 'attempt already recorded by another worker');
    return [];
  }
  if (verdict.status === 'pending') {
    // Its job id per (delivery, attempt) makes a second call harmless.
    await enqueueDeliveries(ctx.queue, [
      { deliveryId: record.delivery.id, attempt: attempt + 1, webhookId: record.webhook.id, delayMs: verdict.delayMs },
    ]);
  }

  observe(ctx, record, attempt, result, verdict);
  await ctx.policies.afterAttempt({ record, attempt, result, verdict });
  return woken;
}

function recordFields(record: DeliveryForAttempt, attempt: number) {
  return {
    event_id: record.event.id,
    webhook_id: record.webhook.id,
    delivery_id: record.delivery.id,
    attempt,
  };
}

function observe(
  ctx: DeliveryContext,
  record: DeliveryForAttempt,
  attempt: number,
  result: HttpAttemptResult,
  verdict: AttemptVerdict,
): void {
  const outcome = verdict.status === 'succeeded' ? 'success' : 'failure';
  const { metrics } = ctx;
  metrics.attempts.inc({ outcome, status_class: result.error === null ? statusClass(result.statusCode) : 'error' });
  metrics.attemptDuration.observe(result.durationMs / 1000);
  if (verdict.status === 'succeeded') {
    metrics.completed.inc({ result: 'succeeded' });
    metrics.latency.observe((Date.now() - record.event.createdAt.getTime()) / 1000);
  } else if (verdict.status === 'failed') {
    metrics.completed.inc({ result: 'failed' });
  }

  ctx.logger.info(
    {
      ...recordFields(record, attempt),
      status_code: result.statusCode,
      duration_ms: result.durationMs,
      outcome,
      error: attemptError(result),
      ...(verdict.status === 'pending' ? { next_attempt_in_ms: verdict.delayMs } : {}),
      ...(verdict.status === 'failed' ? { final: verdict.reason } : {}),
    },
    'delivery attempt',
  );
}

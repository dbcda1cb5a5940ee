import { newId } from '@hooklane/core';
import type { AttemptRecorder, DeliveryForAttempt, RecordOutcome } from '@hooklane/db';
import type { HttpAttemptResult } from './deliver.js';
import { attemptError, type AttemptVerdict } from './retry-decision.js';

/**
 * Writes one attempt with the delivery's and webhook's new state in one statement (and, when
 * it ends a fifo delivery, moves its line on in the same transaction). Not `recorded` when
 * another worker already recorded this attempt (a stalled job taken over): the caller must
 * then not schedule anything, the other worker has.
 */
export async function recordAttemptOutcome(
  recorder: AttemptRecorder,
  record: DeliveryForAttempt,
  attempt: number,
  result: HttpAttemptResult,
  verdict: AttemptVerdict,
): Promise<RecordOutcome> {
  return recorder.record({
    attemptId: newId('att'),
    deliveryId: record.delivery.id,
    webhookId: record.webhook.id,
    attempt,
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    statusCode: result.statusCode,
    responseBody: result.responseBody,
    error: attemptError(result),
    status: verdict.status,
    nextAttemptAt: verdict.status === 'pending' ? new Date(Date.now() + verdict.delayMs) : null,
    countsTowardHealth: !record.delivery.isTest,
    inLine: record.delivery.line !== null,
  });
}

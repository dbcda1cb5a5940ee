import { nextAttemptDelayMs, parseRetryAfter } from '@hooklane/core';
import type { DeliveryForAttempt } from '@hooklane/db';
import type { HttpAttemptResult } from './deliver.js';

export type FailureReason =
  | 'exhausted' // retries_count used up
  | 'gone' // the receiver answered 410
  | 'test' // test pings get one attempt
  | 'permanent'; // nothing a retry could change (e.g. an unparseable URL)

export type AttemptVerdict =
  | { status: 'succeeded' }
  | { status: 'pending'; delayMs: number }
  | { status: 'failed'; reason: FailureReason };

export const REDIRECT_NOT_FOLLOWED = 'redirect not followed';

export function isSuccess(statusCode: number | null): boolean {
  return statusCode !== null && statusCode >= 200 && statusCode < 300;
}

/**
 * The error an attempt log shows. A 3xx reaching us means redirects were off (or the
 * answer had no Location), and it fails the attempt like any non-2xx.
 */
export function attemptError(result: HttpAttemptResult): string | null {
  if (result.error !== null) return result.error;
  if (result.statusCode !== null && result.statusCode >= 300 && result.statusCode < 400) return REDIRECT_NOT_FOLLOWED;
  return null;
}

/** What happens after attempt `attempt` (1-based): done, another one after `delayMs`, or failed. */
export function decideAfterAttempt(
  record: DeliveryForAttempt,
  attempt: number,
  result: HttpAttemptResult,
  now: Date = new Date(),
): AttemptVerdict {
  if (result.error === null && isSuccess(result.statusCode)) return { status: 'succeeded' };
  if (result.error === null && result.statusCode === 410) return { status: 'failed', reason: 'gone' };
  if (!result.retryable) return { status: 'failed', reason: 'permanent' };
  if (record.delivery.isTest) return { status: 'failed', reason: 'test' };
  // retries_count counts retries after the first attempt, so attempt n may be followed while n <= retries_count.
  if (attempt > record.webhook.retriesCount) return { status: 'failed', reason: 'exhausted' };

  const asksToWait = result.statusCode === 429 || result.statusCode === 503;
  const delayMs = nextAttemptDelayMs({
    retryNumber: attempt,
    retriesDelaySeconds: record.webhook.retriesDelay,
    backoff: record.webhook.retryBackoff,
    retryAfterMs: asksToWait ? parseRetryAfter(result.retryAfter, now) : null,
  });
  return { status: 'pending', delayMs };
}

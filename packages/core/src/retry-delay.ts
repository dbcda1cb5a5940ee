/** Longest wait before a retry that backoff or a receiver's Retry-After can ask for. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

/** Exponential delays get up to this fraction added, so synchronized failures spread out. */
export const RETRY_JITTER_FRACTION = 0.1;

export type RetryBackoff = 'fixed' | 'exponential';

export interface RetryDelayInput {
  /** 1-based: the first retry (second attempt) is 1. */
  retryNumber: number;
  retriesDelaySeconds: number;
  backoff: RetryBackoff;
  /** Returns [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
}

export function retryDelayMs(input: RetryDelayInput): number {
  const baseMs = Math.max(0, input.retriesDelaySeconds) * 1000;
  if (input.backoff === 'fixed') return Math.floor(baseMs);

  const exponent = Math.max(0, Math.floor(input.retryNumber) - 1);
  const grownMs = baseMs * 2 ** exponent;
  // Clamp a misbehaving random source rather than trusting it with the schedule.
  const random = Math.min(1, Math.max(0, (input.random ?? Math.random)()));
  const jitteredMs = grownMs * (1 + RETRY_JITTER_FRACTION * random);
  return Math.floor(Math.min(jitteredMs, MAX_RETRY_DELAY_MS));
}

// The three HTTP-date forms of RFC 9110: IMF-fixdate, obsolete RFC 850, and asctime.
const IMF_FIXDATE = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * The wait a `Retry-After` header asks for, in ms, or null when absent or unreadable.
 * Only the HTTP-date forms are handed to Date.parse, which would otherwise read things
 * like "1.5" as a calendar date.
 */
export function parseRetryAfter(value: string | undefined | null, now: Date = new Date()): number | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text === '') return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (/^-\d+$/.test(text)) return 0;

  let dateText = text;
  if (ASCTIME_DATE.test(text)) {
    // asctime carries no zone; HTTP says it is UTC, while Date.parse would assume local time.
    dateText = `${text} GMT`;
  } else if (!IMF_FIXDATE.test(text) && !RFC850_DATE.test(text)) {
    return null;
  }
  const at = Date.parse(dateText);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}

export interface NextAttemptDelayInput extends RetryDelayInput {
  /** From `parseRetryAfter` on a 429 or 503 answer. */
  retryAfterMs?: number | null;
}

/**
 * The wait before the next attempt: the configured backoff, but never shorter than a
 * receiver's Retry-After. Only the Retry-After part is capped at an hour, so a webhook
 * configured with a longer fixed delay keeps it.
 */
export function nextAttemptDelayMs(input: NextAttemptDelayInput): number {
  const computed = retryDelayMs(input);
  const retryAfter = input.retryAfterMs;
  if (retryAfter == null || Number.isNaN(retryAfter) || retryAfter <= 0) return computed;
  return Math.max(computed, Math.min(Math.floor(retryAfter), MAX_RETRY_DELAY_MS));
}

import type { DeliveryForAttempt } from '@hooklane/db';

/**
 * A webhook none of whose attempts has got through for `afterMs` is attempted at most
 * `perSecond` times per second until one does. A dead receiver refuses in microseconds, so
 * without this its backlog and retries take as much of a worker as the in-flight cap lets
 * them, and every healthy webhook sharing the worker slows down (issue 10's overload case).
 * Its retries then come later than `retries_delay`, never sooner; the first attempt that
 * succeeds clears `failing_since`, and the next load sees the webhook at full speed again.
 */
export interface FailingThrottle {
  afterMs: number;
  perSecond: number;
}

export const DEFAULT_FAILING_THROTTLE: FailingThrottle = { afterMs: 10_000, perSecond: 10 };

/** Starts per second this attempt must respect (its own `rate_limit`, the throttle's, or none). */
export function attemptRateLimit(
  webhook: Pick<DeliveryForAttempt['webhook'], 'rateLimit' | 'failingSince'>,
  throttle: FailingThrottle | false,
  now: number,
): number | null {
  const own = webhook.rateLimit;
  if (throttle === false || webhook.failingSince === null || now - webhook.failingSince.getTime() < throttle.afterMs) return own;
  return own === null ? throttle.perSecond : Math.min(own, throttle.perSecond);
}

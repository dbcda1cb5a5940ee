import { describe, it, expect } from '@jest/globals';
import { MAX_RETRY_DELAY_MS, nextAttemptDelayMs, parseRetryAfter, retryDelayMs } from '../src/index.js';

const ALMOST_ONE = 0.999999;

describe('retryDelayMs', () => {
  it('fixed backoff waits the same every time', () => {
    for (const retryNumber of [1, 2, 5, 20]) {
      expect(retryDelayMs({ retryNumber, retriesDelaySeconds: 10, backoff: 'fixed' })).toBe(10_000);
    }
    expect(retryDelayMs({ retryNumber: 3, retriesDelaySeconds: 0, backoff: 'fixed' })).toBe(0);
  });

  it('exponential doubles from the configured delay, within 10% jitter', () => {
    const low = [1, 2, 3, 4, 5].map((n) =>
      retryDelayMs({ retryNumber: n, retriesDelaySeconds: 10, backoff: 'exponential', random: () => 0 }),
    );
    expect(low).toEqual([10_000, 20_000, 40_000, 80_000, 160_000]);
    const high = [1, 2, 3, 4, 5].map((n) =>
      retryDelayMs({ retryNumber: n, retriesDelaySeconds: 10, backoff: 'exponential', random: () => ALMOST_ONE }),
    );
    high.forEach((ms, i) => {
      const base = low[i] ?? 0;
      expect(ms).toBeGreaterThan(base);
      expect(ms).toBeLessThanOrEqual(base * 1.1);
      expect(ms).toBeGreaterThanOrEqual(Math.floor(base * 1.0999));
    });
    for (let i = 0; i < 200; i++) {
      const ms = retryDelayMs({ retryNumber: 3, retriesDelaySeconds: 10, backoff: 'exponential' });
      expect(ms).toBeGreaterThanOrEqual(40_000);
      expect(ms).toBeLessThanOrEqual(44_000);
    }
  });

  it('caps exponential delays at one hour, after jitter', () => {
    expect(
      retryDelayMs({ retryNumber: 20, retriesDelaySeconds: 10, backoff: 'exponential', random: () => 0 }),
    ).toBe(MAX_RETRY_DELAY_MS);
    // 3,400 s is under the cap, but its jitter would take it over.
    expect(
      retryDelayMs({ retryNumber: 1, retriesDelaySeconds: 3400, backoff: 'exponential', random: () => ALMOST_ONE }),
    ).toBe(MAX_RETRY_DELAY_MS);
    expect(MAX_RETRY_DELAY_MS).toBe(3_600_000);
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2026-02-06T12:00:00.000Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('-5', now)).toBe(0);
  });

  it('reads the three HTTP-date forms', () => {
    expect(parseRetryAfter('Fri, 06 Feb 2026 12:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Friday, 06-Feb-26 12:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Fri Feb  6 12:01:30 2026', now)).toBe(90_000);
    expect(parseRetryAfter('Fri, 06 Feb 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('returns null for garbage and absence', () => {
    for (const value of [undefined, null, '', 'soon', '1.5', '10s', '2026-02-06', '0x10', 'Fri, 99 Foo 2026 99:99:99 GMT']) {
      expect(parseRetryAfter(value, now)).toBeNull();
    }
  });
});

describe('nextAttemptDelayMs', () => {
  const base = { retryNumber: 1, retriesDelaySeconds: 10, backoff: 'fixed' as const };

  it('waits at least as long as Retry-After asks', () => {
    expect(nextAttemptDelayMs({ ...base, retryAfterMs: 60_000 })).toBe(60_000);
    expect(nextAttemptDelayMs({ ...base, retryAfterMs: 1_000 })).toBe(10_000);
    expect(nextAttemptDelayMs({ ...base, retryAfterMs: null })).toBe(10_000);
    expect(nextAttemptDelayMs(base)).toBe(10_000);
  });

  it('caps a Retry-After at one hour', () => {
    expect(nextAttemptDelayMs({ ...base, retryAfterMs: 7 * 24 * 3_600_000 })).toBe(MAX_RETRY_DELAY_MS);
    expect(nextAttemptDelayMs({ ...base, retryAfterMs: parseRetryAfter('99999999999') })).toBe(MAX_RETRY_DELAY_MS);
    expect(
      nextAttemptDelayMs({ retryNumber: 15, retriesDelaySeconds: 10, backoff: 'exponential', retryAfterMs: 5_000 }),
    ).toBe(MAX_RETRY_DELAY_MS);
  });
});

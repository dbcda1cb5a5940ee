import { HooklaneError } from './errors.js';

/** What emits retry on: the API's 503 (Redis or PostgreSQL away) and answers that never came. */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof HooklaneError)) return false;
  return err.status === 503 || (err.status === 0 && (err.code === 'network_error' || err.code === 'timeout'));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` up to `tries` times while it fails with a retryable error, waiting
 * `delayMs`, then twice that, and so on. Only safe for calls that carry an
 * Idempotency-Key: the server may have stored the first try before its answer was lost.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  tries: number,
  delayMs: number,
  signal?: AbortSignal,
): Promise<T> {
  const total = Math.max(1, Math.floor(tries));
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= total || !isRetryable(err) || signal?.aborted) throw err;
      await sleep(delayMs * 2 ** (n - 1), signal);
    }
  }
}

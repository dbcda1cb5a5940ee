/** Raised by `withTimeout` when the deadline passes first; `label` says what was waited for. */
export class TimeoutError extends Error {
  constructor(label: string, ms: number) {
    super(`${label} timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Settles as `promise` does, or rejects with a `TimeoutError` after `ms`. The timer never
 * keeps a process alive and is cleared as soon as the promise settles. The promise itself
 * keeps running: callers bound only how long they wait (a BullMQ add waits for Redis to come
 * back, a query waits for its server), which is what every timeout in this codebase wants.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, label = 'operation'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(label, ms)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

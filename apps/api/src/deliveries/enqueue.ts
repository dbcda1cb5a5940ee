import { enqueueDeliveries, type DeliveryToEnqueue } from '@hooklane/queue';
import type { AppDeps } from '../deps.js';

// BullMQ waits for a lost Redis connection to come back rather than failing, so without a
// bound a Redis outage would hang the request that already committed its deliveries.
export const ENQUEUE_TIMEOUT_MS = 2000;
const CHUNK = 1000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`enqueue timed out after ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * Queues the first attempt of freshly committed deliveries. Never throws: the rows are
 * already in PostgreSQL, and the worker's sweeper queues any pending delivery that has no
 * job, so a Redis failure here only delays delivery. Returns whether everything was queued.
 */
export async function enqueueFirstAttempts(
  deps: Pick<AppDeps, 'queue' | 'logger'>,
  deliveryIds: readonly string[],
): Promise<boolean> {
  for (let start = 0; start < deliveryIds.length; start += CHUNK) {
    const chunk = deliveryIds.slice(start, start + CHUNK);
    try {
      await withTimeout(
        // No webhookId here yet (the outbox adds it): the worker then reads the delivery to find its line.
        enqueueDeliveries(deps.queue, chunk.map((deliveryId) => ({ deliveryId, attempt: 1 }) as DeliveryToEnqueue)),
        ENQUEUE_TIMEOUT_MS,
      );
    } catch (err) {
      deps.logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) }, deliveries: deliveryIds.length - start },
        'could not queue deliveries; they are stored and the sweeper will queue them',
      );
      return false;
    }
  }
  return true;
}

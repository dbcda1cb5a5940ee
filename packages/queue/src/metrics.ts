import { Gauge, type Registry } from 'prom-client';
import type { Queue } from 'bullmq';

export const QUEUE_GAUGE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * `webhook_queue_jobs{state}`, read from BullMQ when Prometheus scrapes: one cheap
 * round trip of counts, so the gauge is never stale and costs nothing between scrapes.
 * Given every partition's queue, it reports their sum (one round trip per partition).
 */
export function registerQueueGauge(registry: Registry, queue: Queue | readonly Queue[]): Gauge<'state'> {
  const queues: readonly Queue[] = Array.isArray(queue) ? queue : [queue as Queue];
  return new Gauge({
    name: 'webhook_queue_jobs',
    help: 'Delivery jobs in the queue by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const counts = await Promise.all(queues.map((q) => q.getJobCounts(...QUEUE_GAUGE_STATES)));
        for (const state of QUEUE_GAUGE_STATES) this.set({ state }, counts.reduce((sum, c) => sum + (c[state] ?? 0), 0));
      } catch {
        // Redis down: leave the last values rather than failing the whole scrape.
      }
    },
  });
}

import { Gauge, type Registry } from 'prom-client';
import type { Queue } from 'bullmq';

export const QUEUE_GAUGE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * `webhook_queue_jobs{state}`, read from BullMQ when Prometheus scrapes: one cheap
 * round trip of counts, so the gauge is never stale and costs nothing between scrapes.
 */
export function registerQueueGauge(registry: Registry, queue: Queue): Gauge<'state'> {
  return new Gauge({
    name: 'webhook_queue_jobs',
    help: 'Delivery jobs in the queue by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const counts = await queue.getJobCounts(...QUEUE_GAUGE_STATES);
        for (const state of QUEUE_GAUGE_STATES) this.set({ state }, counts[state] ?? 0);
      } catch {
        // Redis down: leave the last values rather than failing the whole scrape.
      }
    },
  });
}

import { DURATION_BUCKETS, LATENCY_BUCKETS, createMetricsRegistry } from '@hooklane/observability';
import { Counter, Histogram, type Registry } from 'prom-client';
import { registerQueueGauge, type DeliveryQueue } from '@hooklane/queue';


export type AttemptOutcome = 'success' | 'failure';
export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'error';

export function statusClass(statusCode: number | null): StatusClass {
  if (statusCode === null || statusCode < 200 || statusCode >= 600) return 'error';
  return `${Math.floor(statusCode / 100)}xx` as StatusClass;
}

export interface WorkerMetrics {
  registry: Registry;
  attempts: Counter<'outcome' | 'status_class'>;
  completed: Counter<'result'>;
  attemptDuration: Histogram;
  latency: Histogram;
}

/** `queue`: every partition's queue (the gauge sums them), or the one queue. */
export function createWorkerMetrics(queue: DeliveryQueue | readonly DeliveryQueue[]): WorkerMetrics {
  const registry = createMetricsRegistry();
  registerQueueGauge(registry, queue);
  return {
    registry,
    attempts: new Counter({
      name: 'webhook_delivery_attempts_total',
      help: 'HTTP attempts by outcome and status class',
      labelNames: ['outcome', 'status_class'],
      registers: [registry],
    }),
    completed: new Counter({
      name: 'webhook_deliveries_completed_total',
      help: 'Deliveries that reached a final state',
      labelNames: ['result'],
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: 'webhook_delivery_attempt_duration_seconds',
      help: 'Duration of one HTTP attempt',
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'webhook_delivery_latency_seconds',
      help: 'From the event being received to its successful delivery',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
}

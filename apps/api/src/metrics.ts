import { createMetricsRegistry } from '@hooklane/observability';
import { Counter, type Registry } from 'prom-client';
import { registerQueueGauge, type DeliveryQueue } from '@hooklane/queue';

export interface ApiMetrics {
  registry: Registry;
  eventsReceived: Counter<'event'>;
  deliveriesCreated: Counter;
}

/** `queue`: every partition's queue (the gauge sums them), or the one queue. */
export function createApiMetrics(queue: DeliveryQueue | readonly DeliveryQueue[]): ApiMetrics {
  const registry = createMetricsRegistry();
  registerQueueGauge(registry, queue);
  return {
    registry,
    eventsReceived: new Counter({
      name: 'webhook_events_received_total',
      help: 'Events accepted by the API, by type',
      labelNames: ['event'],
      registers: [registry],
    }),
    deliveriesCreated: new Counter({
      name: 'webhook_deliveries_created_total',
      help: 'Deliveries created by fan-out',
      registers: [registry],
    }),
  };
}

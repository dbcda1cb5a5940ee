import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { registerQueueGauge, type DeliveryQueue } from '@hooklane/queue';

export interface ApiMetrics {
  registry: Registry;
  eventsReceived: Counter<'event'>;
  deliveriesCreated: Counter;
}

/** A registry per app instance, so tests that build several apps never collide on metric names. */
export function createApiMetrics(queue: DeliveryQueue): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
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

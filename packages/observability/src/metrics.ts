import { Registry, collectDefaultMetrics } from 'prom-client';

// Webhook receivers answer in milliseconds to tens of seconds (the longest timeout is 60 s).
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];
// From an event being received to its delivery: retries stretch this to an hour.
export const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** A registry per app instance (with the process metrics), so tests that build several apps never collide on names. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export { createLogger, REDACT_PATHS } from './logger.js';
export { createMetricsRegistry, DURATION_BUCKETS, LATENCY_BUCKETS } from './metrics.js';

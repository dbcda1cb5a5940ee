export { startDeliveryWorker, type WorkerDeps, type RunningWorker } from './worker.js';
export { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
export { createLogger } from './logger.js';
export { createDefaultPolicies, type DeliveryPolicies, type AttemptOutcome } from './attempt-policies.js';
export type { AddressPolicy } from './target-guard.js';
export { HOOKLANE_VERSION, USER_AGENT } from './version.js';

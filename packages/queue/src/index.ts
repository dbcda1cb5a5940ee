export { QUEUE_NAMES, type QueueName } from './names.js';
export { JOB_NAMES, deliverJobId, type JobName, type DeliverJobData, type JobDataByName } from './jobs.js';
export { createRedisConnection, type RedisRole } from './connection.js';
export {
  createDeliveryQueue,
  enqueueDeliveries,
  DEFAULT_JOB_OPTIONS,
  type DeliveryQueue,
  type DeliveryToEnqueue,
  type QueueOptions,
} from './producer.js';
export { registerQueueGauge, QUEUE_GAUGE_STATES } from './metrics.js';
export { defineRedisScript, type RedisScript, type ScriptClient } from './redis-script.js';
export {
  connectRedis,
  isRedisClient,
  type RedisClient,
  type RedisMode,
  type RedisSettings,
} from './connection.js';
export {
  createDeliveryQueues,
  createSingleDeliveryQueue,
  deliveryQueueName,
  enqueueToPartitions,
  gateKeyPrefix,
  partitionOfWebhook,
  probePartitions,
  type DeliveryQueues,
  type PartitionedDelivery,
  type QueueLayout,
} from './partitions.js';

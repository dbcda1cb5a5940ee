export { QUEUE_NAMES, type QueueName } from './names.js';
export { JOB_NAMES, deliverJobId, type JobName, type DeliverJobData, type JobDataByName } from './jobs.js';
export { createRedisConnection, type RedisRole } from './connection.js';
export {
  createDeliveryQueue,
  enqueueDeliveries,
  leasedJob,
  lineClient,
  lineSpace,
  DEFAULT_JOB_OPTIONS,
  EVENTS_MAX_LEN,
  type DeliveryQueue,
  type DeliveryToEnqueue,
  type QueueOptions,
} from './producer.js';
export {
  webhookLineKeys,
  spaceKeys,
  lineEntry,
  parseLineEntry,
  LEASE_MS,
  DEFAULT_LINE_CAP,
  type WebhookLineKeys,
  type SpaceKeys,
} from './line-keys.js';
export { withLineCommands, type LineClient, type LineCommandName } from './line-scripts.js';
export { registerQueueGauge, QUEUE_GAUGE_STATES } from './metrics.js';
export {
  connectRedis,
  isRedisClient,
  type RedisClient,
  type RedisMode,
  type RedisSettings,
} from './connection.js';
export {
  createDeliveryQueues,
  deliveryQueueName,
  enqueueToPartitions,
  groupByPartition,
  webhookKeySpace,
  partitionOfWebhook,
  probePartitions,
  type DeliveryQueues,
  type PartitionedDelivery,
  type QueueLayout,
} from './partitions.js';

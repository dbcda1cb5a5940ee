export { createDb, type Db, type DbOptions } from './client.js';
export { Coalescer, type CoalescerOptions } from './coalescer.js';
export { Prisma, PrismaClient, RetryBackoff, DeliveryStatus } from './generated/prisma/client.js';
export type { ApiKey, Webhook, Event, Delivery, Attempt } from './generated/prisma/client.js';
export {
  createDeliveryLoader,
  loadDeliveriesForAttempt,
  type DeliveryLoader,
  type DeliveryForAttempt,
  type DeliveryStatusName,
} from './delivery-load.js';
export { createAttemptRecorder, recordAttempts, type AttemptRecorder, type RecordAttemptInput } from './attempt-record.js';
export {
  cancelPendingDelivery,
  disableWebhook,
  findDuePendingPage,
  findPendingPage,
  filterStillPending,
  type PendingDelivery,
  type SweepCursor,
} from './delivery-queries.js';
export {
  findSubscribedWebhookIds,
  claimLiveIdempotencyKeys,
  insertEventsWithDeliveries,
  insertEventsWithFanOut,
  type InsertEventsWithFanOutInput,
  type StoredEvent,
  type FanOutTarget,
  type IdempotencyKeyRef,
  type IdempotentEvent,
  type NewEventRow,
  type NewDeliveryRow,
  type InsertEventsInput,
} from './ingest-queries.js';
export { recoverFailedDeliveries, type RecoverInput } from './redelivery-queries.js';
export { eraseEvent, eraseTeam, type ErasedEvent, type ErasedTeam } from './erasure-queries.js';
export {
  runRetention,
  runRetentionOn,
  RETENTION_LOCK_KEY,
  type RetentionOptions,
  type RetentionDay,
  type RetentionRun,
} from './retention-queries.js';
export { ensureDayPartitions, listPartitions, idBound, type Partition } from './retention-partitions.js';

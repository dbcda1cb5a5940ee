export { createDb, pingDatabase, type Db, type DbOptions } from './client.js';
export { Coalescer, type CoalescerOptions } from './coalescer.js';
export { Prisma, PrismaClient, RetryBackoff, DeliveryStatus, Ordering } from './generated/prisma/client.js';
export type { ApiKey, Webhook, Event, Delivery, Attempt } from './generated/prisma/client.js';
export {
  createDeliveryLoader,
  loadDeliveriesForAttempt,
  type DeliveryLoader,
  type DeliveryForAttempt,
  type DeliveryStatusName,
} from './delivery-load.js';
export { createAttemptRecorder, recordAttempts, type AttemptRecorder, type RecordAttemptInput, type RecordOutcome } from './attempt-record.js';
export {
  cancelPendingDelivery,
  disableWebhook,
  findDuePendingPage,
  findWebhookProject,
  findPendingPage,
  filterStillPending,
  type PendingDelivery,
  type SweepCursor,
} from './delivery-queries.js';
export {
  claimLiveIdempotencyKeys,
  insertEventsWithFanOut,
  type InsertEventsWithFanOutInput,
  type StoredEvent,
  type IdempotencyKeyRef,
  type IdempotentEvent,
  type NewEventRow,
} from './ingest-queries.js';
export {
  advanceLines,
  appendToLines,
  applyOrderingChange,
  cancelInLine,
  dropLines,
  LINE_TX_OPTIONS,
  parkIfBlocked,
  type WokenDelivery,
} from './ordering-lines.js';
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
export {
  createDeliveries,
  enqueueCreated,
  ENQUEUE_TIMEOUT_MS,
  type CreatedDelivery,
  type DeliveryToCreate,
  type OutboxLog,
  type OutboxQueue,
} from './outbox.js';

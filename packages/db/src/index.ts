export { createDb, type Db, type DbOptions } from './client.js';
export { Coalescer, type CoalescerOptions } from './coalescer.js';
export { Prisma, PrismaClient, RetryBackoff, DeliveryStatus } from './generated/prisma/client.js';
export type { ApiKey, Webhook, Event, Delivery, Attempt } from './generated/prisma/client.js';
export {
  loadDeliveryForAttempt,
  loadDeliveriesForAttempt,
  recordAttempt,
  recordAttempts,
  cancelPendingDelivery,
  disableWebhook,
  findSweepCandidates,
  filterStillPending,
  type DeliveryForAttempt,
  type DeliveryStatusName,
  type RecordAttemptInput,
  type SweepCandidate,
  type FindSweepCandidatesInput,
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
export { recoverFailedDeliveries, type RecoverInput } from './redelivery-queries.js';
export {
  createDeliveries,
  enqueueCreated,
  ENQUEUE_TIMEOUT_MS,
  type CreatedDelivery,
  type DeliveryToCreate,
  type OutboxLog,
  type OutboxQueue,
} from './outbox.js';

import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { QUEUE_NAMES } from './names.js';
import { JOB_NAMES, deliverJobId, type DeliverJobData } from './jobs.js';

export type DeliveryQueue = Queue<DeliverJobData, unknown, typeof JOB_NAMES.deliver>;

export interface QueueOptions {
  connection: ConnectionOptions;
  prefix: string;
}

// Retries are ours (per-webhook count, delay and Retry-After), so BullMQ tries each job once.
// Finished jobs are trimmed: the database, not Redis, is the record of what happened.
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

export function createDeliveryQueue({ connection, prefix }: QueueOptions): DeliveryQueue {
  return new Queue(QUEUE_NAMES.deliveries, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
}

export interface DeliveryToEnqueue {
  deliveryId: string;
  attempt: number;
  delayMs?: number;
}

/** Adds many delivery jobs in one round trip; re-adding an attempt already queued changes nothing. */
export async function enqueueDeliveries(queue: DeliveryQueue, items: DeliveryToEnqueue[]): Promise<void> {
  if (items.length === 0) return;
  await queue.addBulk(
    items.map(({ deliveryId, attempt, delayMs }) => ({
      name: JOB_NAMES.deliver,
      data: { deliveryId, attempt },
      opts: { jobId: deliverJobId(deliveryId, attempt), ...(delayMs ? { delay: delayMs } : {}) },
    })),
  );
}

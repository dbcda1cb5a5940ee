import { Worker, type ConnectionOptions } from 'bullmq';
import type { DeliverJobData, DeliveryQueue } from '@hooklane/queue';
import type { Logger } from 'pino';
import { startLineReaper, type LineReaper } from './line-reaper.js';
import { createDeliveryProcessor, type DeliveryContext } from './process-delivery.js';
import type { WebhookLine } from './webhook-line.js';

/**
 * One partition's consumer (QUEUE_PARTITIONS, packages/queue/src/partitions.ts): a BullMQ
 * Worker on the partition's queue, whose processor runs that partition's webhook lines, and
 * the line reaper for the partition's `line-due`. Every worker process starts one per
 * partition (worker.ts), so every process serves every partition.
 */

// A killed worker's job is taken over by another once its lock lapses: lockDuration plus
// at most one stalledInterval, under a minute. Stalls are counted generously because a
// crash is not the delivery's fault.
export const LOCK_DURATION_MS = 30_000;
export const STALLED_INTERVAL_MS = 15_000;
export const MAX_STALLED_COUNT = 5;

export interface PartitionConsumerDeps {
  /** Everything the processor needs but the partition's queue and line. */
  context: Omit<DeliveryContext, 'queue' | 'line'>;
  queue: DeliveryQueue;
  line: WebhookLine;
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  logger: Logger;
}

export interface PartitionConsumer {
  worker: Worker<DeliverJobData>;
  reaper: LineReaper;
}

export async function startPartitionConsumer(deps: PartitionConsumerDeps): Promise<PartitionConsumer> {
  const { queue, line, logger } = deps;
  // The partition's queue and line: a job of this queue is for a webhook of this partition,
  // so its retries and granted entries go back to the same queue and key space.
  const processor = createDeliveryProcessor({ ...deps.context, queue, line });
  // The queue's own name: partitioned and cluster layouts carry a hash tag in it.
  const worker = new Worker<DeliverJobData>(queue.name, processor, {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: deps.concurrency,
    lockDuration: LOCK_DURATION_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: MAX_STALLED_COUNT,
    autorun: false,
  });
  // An 'error' event without a listener would crash the process on a Redis blip.
  worker.on('error', (err) => logger.warn({ err: { message: err.message }, queue: queue.name }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (!job) return;
    logger.error(
      { delivery_id: job.data.deliveryId, attempt: job.data.attempt, err: { message: err.message } },
      'delivery job failed; the sweeper will queue it again',
    );
  });
  worker.on('stalled', (jobId) => logger.warn({ job_id: jobId, queue: queue.name }, 'stalled job taken over'));
  void worker.run().catch((err: unknown) => logger.error({ err: { message: (err as Error).message } }, 'worker stopped'));
  await worker.waitUntilReady();
  return { worker, reaper: startLineReaper({ line, logger }) };
}

/** A consumer per partition, partition p at index p, WORKER_CONCURRENCY split over them. */
export async function startPartitionConsumers(
  deps: Omit<PartitionConsumerDeps, 'queue' | 'line'> & { queues: readonly DeliveryQueue[]; lines: readonly WebhookLine[] },
): Promise<PartitionConsumer[]> {
  const { queues, lines, ...shared } = deps;
  return Promise.all(
    queues.map((queue, p) =>
      startPartitionConsumer({ ...shared, queue, line: lines[p]!, concurrency: partitionConcurrency(deps.concurrency, queues.length, p) }),
    ),
  );
}

/**
 * WORKER_CONCURRENCY is per process (API.md), so it is split over the partitions: partition p
 * gets its share, the first ones one more when it does not divide, each at least 1 (so with
 * fewer slots than partitions the process may run one attempt per partition). A split, not
 * the full concurrency each, keeps a process's attempts, sockets and database work where the
 * operator set them; the cost is that a backlog on one partition alone uses its share of a
 * process, not all of it. Webhooks spread evenly over partitions (a hash of their ids), and
 * more worker processes add a share on every partition.
 */
export function partitionConcurrency(concurrency: number, partitions: number, partition: number): number {
  const share = Math.floor(concurrency / partitions) + (partition < concurrency % partitions ? 1 : 0);
  return Math.max(1, share);
}

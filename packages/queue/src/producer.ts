import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { isRedisClient } from './connection.js';
import { QUEUE_NAMES } from './names.js';
import { JOB_NAMES, deliverJobId, type DeliverJobData } from './jobs.js';
import { DEFAULT_LINE_CAP, LEASE_MS, lineEntry, parseLineEntry, spaceKeys, webhookLineKeys } from './line-keys.js';
import { withLineCommands, type LineClient } from './line-scripts.js';

export type DeliveryQueue = Queue<DeliverJobData, unknown, typeof JOB_NAMES.deliver>;

export interface QueueOptions {
  connection: ConnectionOptions;
  prefix: string;
  /** The partition's queue name (partitions.ts); `deliveries` when omitted. */
  name?: string;
}

// Retries are ours (per-webhook count, delay and Retry-After), so BullMQ tries each job once.
// Finished jobs are removed at once: the database, not Redis, is the record of what happened,
// and a kept job would turn a later re-add of the same id into a silent no-op.
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: true,
};

/** Nobody reads BullMQ's event stream (we use no QueueEvents); a short one is trimmed cheaply. */
export const EVENTS_MAX_LEN = 10;

export function createDeliveryQueue({ connection, prefix, name }: QueueOptions): DeliveryQueue {
  return new Queue(name ?? QUEUE_NAMES.deliveries, {
    connection,
    prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
  });
}

export interface DeliveryToEnqueue {
  deliveryId: string;
  attempt: number;
  /** The delivery's webhook: its line is where the delivery waits for a free slot. */
  webhookId: string;
  /** A retry's wait; such a job joins its webhook's line when it comes due. */
  delayMs?: number;
  /**
   * A test ping: "one signed delivery now", so it waits in no line. It becomes a plain job
   * marked `test` that the worker attempts without taking one of the webhook's slots.
   */
  test?: boolean;
}

/** The key space of the queue's lines: BullMQ's own base for the queue (see line-keys.ts). */
export function lineSpace(queue: DeliveryQueue): string {
  return `${queue.opts.prefix ?? 'bull'}:${queue.name}`;
}

/** The queue's own ioredis connection with the line scripts registered on it. */
export function lineClient(queue: DeliveryQueue): LineClient {
  const connection = queue.opts.connection;
  if (!isRedisClient(connection)) throw new Error('the delivery queue must be made with an ioredis connection (connectRedis)');
  return withLineCommands(connection);
}

/** A job for an entry that was granted its webhook's slot. */
export function leasedJob(entry: string, webhookId: string) {
  const { deliveryId, attempt } = parseLineEntry(entry);
  return {
    name: JOB_NAMES.deliver,
    data: { deliveryId, attempt, webhookId, leased: 1 as const },
    opts: { jobId: deliverJobId(deliveryId, attempt) },
  };
}

const ADMIT_CHUNK = 1000;

/**
 * Queues deliveries. Due ones join their webhook's line (one script call per webhook and
 * chunk; a delivery already in Redis is not added twice) and only those granted a free slot
 * become BullMQ jobs, so a backlog waits in the line and is never fetched over and over.
 * Delayed ones (retries) become delayed jobs that join the line when due.
 */
export async function enqueueDeliveries(queue: DeliveryQueue, items: DeliveryToEnqueue[]): Promise<void> {
  if (items.length === 0) return;
  const jobs: Array<ReturnType<typeof leasedJob> | { name: 'deliver'; data: DeliverJobData; opts: JobsOptions }> = [];
  const byWebhook = new Map<string, string[]>();
  for (const { deliveryId, attempt, webhookId, delayMs, test } of items) {
    if (delayMs || !webhookId || test) {
      const data: DeliverJobData = webhookId ? { deliveryId, attempt, webhookId } : { deliveryId, attempt };
      if (test) data.test = 1;
      jobs.push({
        name: JOB_NAMES.deliver,
        data,
        opts: { jobId: deliverJobId(deliveryId, attempt), ...(delayMs ? { delay: delayMs } : {}) },
      });
      continue;
    }
    const entries = byWebhook.get(webhookId) ?? [];
    entries.push(lineEntry(deliveryId, attempt));
    byWebhook.set(webhookId, entries);
  }
  if (byWebhook.size > 0) {
    const client = lineClient(queue);
    const space = lineSpace(queue);
    const { due, cap } = spaceKeys(space);
    const calls: Array<Promise<void>> = [];
    for (const [webhookId, entries] of byWebhook) {
      const k = webhookLineKeys(space, webhookId);
      for (let i = 0; i < entries.length; i += ADMIT_CHUNK) {
        const chunk = entries.slice(i, i + ADMIT_CHUNK);
        calls.push(
          (client.hooklaneLineAdmit(k.line, k.slots, k.known, due, k.settling, cap, webhookId, LEASE_MS, DEFAULT_LINE_CAP, ...chunk) as Promise<string[]>).then(
            (granted) => {
              for (const entry of granted) jobs.push(leasedJob(entry, webhookId));
            },
          ),
        );
      }
    }
    await Promise.all(calls);
  }
  if (jobs.length > 0) await queue.addBulk(jobs);
}

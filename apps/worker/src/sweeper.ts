import { randomBytes } from 'node:crypto';
import { filterStillPending, findDuePendingPage, findPendingPage, type Db, type PendingDelivery, type SweepCursor } from '@hooklane/db';
import {
  deliverJobId,
  enqueueToPartitions,
  groupByPartition,
  lineEntry,
  lineSpace,
  spaceKeys,
  type DeliveryQueues,
  type RedisClient,
} from '@hooklane/queue';
import type { Logger } from 'pino';
import type { WebhookLine } from './webhook-line.js';

/**
 * The outbox sweeper. PostgreSQL is the record of truth and Redis only a schedule, so a
 * pending delivery that Redis does not hold (a crash between commit and enqueue, a job that
 * failed) is queued again here. Two cases, each cheap:
 * - Redis lost its data (a flush, an empty restart): the epoch key is gone, and every
 *   pending delivery is queued again, page by page (keyset), due ones into their lines,
 *   later ones as delayed jobs.
 * - Anything else: each sweep walks the due pending deliveries by keyset pages, continuing
 *   where the last sweep stopped, and asks Redis about a page in one SMISMEMBER per webhook
 *   (plus an EXISTS for a retry job that has not joined its line yet), never per job state.
 * Every worker runs it; a Redis lock lets one sweep per interval, and a re-add of a
 * delivery that Redis holds changes nothing anyway.
 * With QUEUE_PARTITIONS, each delivery is looked for and queued again in its webhook's
 * partition under the current mapping, and each partition has its own epoch key: a change of
 * QUEUE_PARTITIONS finds the new partitions' epochs missing and queues everything pending by
 * the new mapping (jobs left in the old layout's queues are read by no worker of the new one).
 */

export interface SweeperOptions {
  db: Db;
  /** Every partition's queue; each delivery goes to its webhook's. */
  queues: DeliveryQueues;
  logger: Logger;
  /** Routed by webhook to its partition's line (partition-lines.ts). */
  line: WebhookLine;
  intervalMs: number;
  /** How overdue a delivery must be before it counts as lost, so in-flight enqueues are not raced. */
  graceMs?: number;
  /** Deliveries per page. */
  batchSize?: number;
  /** Pages looked at per sweep (the walk continues at the next sweep). */
  pagesPerSweep?: number;
  /** For the epoch key and the lock that lets one of N workers sweep per interval. */
  redis?: RedisClient | undefined;
}

export interface Sweeper {
  /** One pass now; returns how many deliveries were queued again. */
  sweepOnce(): Promise<number>;
  stop(): Promise<void>;
}

export const DEFAULT_SWEEP_GRACE_MS = 5_000;
const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_PAGES_PER_SWEEP = 4;
const STOP_WAIT_MS = 2_000;

/** What one sweep reads and writes, fixed for the sweeper's life. */
interface SweepContext {
  db: Db;
  queues: DeliveryQueues;
  line: WebhookLine;
  redis: RedisClient | undefined;
  batchSize: number;
}

export function startSweeper(options: SweeperOptions): Sweeper {
  const { logger, intervalMs } = options;
  const ctx: SweepContext = {
    db: options.db,
    queues: options.queues,
    line: options.line,
    redis: options.redis,
    batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
  };
  const graceMs = options.graceMs ?? DEFAULT_SWEEP_GRACE_MS;
  const pagesPerSweep = options.pagesPerSweep ?? DEFAULT_PAGES_PER_SWEEP;
  // One lock for all partitions, in partition 0's space (with one partition, the key of old).
  const lockKey = `${lineSpace(ctx.queues.all[0]!)}:sweeper-lock`;
  const epochKeys = ctx.queues.all.map((queue) => spaceKeys(lineSpace(queue)).epoch);
  const token = randomBytes(8).toString('hex');
  let cursor: SweepCursor | null = null;

  async function sweepOnce(): Promise<number> {
    if (ctx.redis && (await epochMissing(ctx.redis, epochKeys, token))) {
      const count = await requeueAll(ctx);
      if (count > 0) logger.warn({ count }, 'Redis holds no lines (new or emptied): every pending delivery queued again');
      return count;
    }
    let requeued = 0;
    for (let page = 0; page < pagesPerSweep; page++) {
      const { rows, next } = await findDuePendingPage(ctx.db, { dueBefore: new Date(Date.now() - graceMs), after: cursor, limit: ctx.batchSize });
      cursor = next;
      const missing = await missingFromRedis(ctx, rows);
      // A delivery may have been finished between the page read and the Redis check.
      const stillPending = await filterStillPending(ctx.db, missing);
      const lost = missing.filter((r) => stillPending.has(r.id));
      if (lost.length > 0) await enqueueRows(ctx.queues, lost);
      requeued += lost.length;
      if (!next) break;
    }
    if (requeued > 0) logger.warn({ count: requeued }, 'sweeper re-queued deliveries Redis did not hold');
    return requeued;
  }

  async function takeTurn(): Promise<boolean> {
    if (!ctx.redis) return true;
    // Held for one interval and never released: with N workers the database is swept once per interval.
    const taken = await ctx.redis.set(lockKey, token, 'PX', intervalMs, 'NX');
    return taken === 'OK';
  }

  const ticking = repeatEvery(intervalMs, async () => {
    try {
      if (await takeTurn()) await sweepOnce();
    } catch (err) {
      logger.warn({ err: { message: (err as Error).message } }, 'sweep failed; will try again');
    }
  });
  return { sweepOnce, stop: ticking.stop };
}

/** After a data loss: every pending delivery, due or not, goes back into Redis. */
async function requeueAll(ctx: SweepContext): Promise<number> {
  let afterId = '';
  let count = 0;
  for (;;) {
    const rows = await findPendingPage(ctx.db, { afterId, limit: ctx.batchSize });
    if (rows.length === 0) return count;
    afterId = rows.at(-1)!.id;
    await enqueueRows(ctx.queues, rows);
    count += rows.length;
  }
}

async function enqueueRows(queues: DeliveryQueues, rows: PendingDelivery[]): Promise<void> {
  const now = Date.now();
  await enqueueToPartitions(
    queues,
    rows.map((r) => {
      const delayMs = r.nextAttemptAt ? r.nextAttemptAt.getTime() - now : 0;
      return { deliveryId: r.id, attempt: r.attempts + 1, webhookId: r.webhookId, ...(delayMs > 0 ? { delayMs } : {}) };
    }),
  );
}

/** Of a page of due rows, those Redis holds nowhere: not in a line, not leased, no job. */
async function missingFromRedis(ctx: SweepContext, rows: PendingDelivery[]): Promise<PendingDelivery[]> {
  const byWebhook = new Map<string, PendingDelivery[]>();
  for (const r of rows) byWebhook.set(r.webhookId, [...(byWebhook.get(r.webhookId) ?? []), r]);
  const unheld: PendingDelivery[] = [];
  await Promise.all(
    [...byWebhook].map(async ([webhookId, group]) => {
      const held = await ctx.line.holds(webhookId, group.map((r) => lineEntry(r.id, r.attempts + 1)));
      group.forEach((r, i) => {
        if (!held[i]) unheld.push(r);
      });
    }),
  );
  if (unheld.length === 0 || !ctx.redis) return unheld;
  return withoutJobs(ctx.redis, ctx.queues, unheld);
}

/** Those of the rows without a BullMQ job (a retry not yet due to join its line). */
async function withoutJobs(redis: RedisClient, queues: DeliveryQueues, rows: PendingDelivery[]): Promise<PendingDelivery[]> {
  // One pipeline per partition: in cluster mode a pipeline may touch only one node.
  const groups = [...groupByPartition(queues.layout, rows, (r) => r.webhookId).values()];
  const found = await Promise.all(
    groups.map(async (group) => {
      const pipeline = redis.pipeline();
      for (const r of group) pipeline.exists(queues.forWebhook(r.webhookId).toKey(deliverJobId(r.id, r.attempts + 1)));
      const exists = (await pipeline.exec()) ?? [];
      return group.filter((_, i) => exists[i]?.[1] !== 1);
    }),
  );
  return found.flat();
}

/** Sets every partition's epoch where it is missing; true when one was (that partition's Redis lost its data). */
async function epochMissing(redis: RedisClient, epochKeys: string[], token: string): Promise<boolean> {
  const set = await Promise.all(epochKeys.map((key) => redis.set(key, token, 'NX')));
  return set.some((reply) => reply === 'OK');
}

/** Runs `work` now-ish and then every interval after it ends, until stopped. */
function repeatEvery(intervalMs: number, work: () => Promise<void>): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = work();
    void running.then(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  timer = setTimeout(tick, Math.min(intervalMs, 1_000));
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      // A sweep stuck on an unreachable Redis must not hold up shutdown; its work is idempotent.
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise((resolve) => (wait = setTimeout(resolve, STOP_WAIT_MS)))]);
      clearTimeout(wait);
    },
  };
}

import { randomBytes } from 'node:crypto';
import { filterStillPending, findSweepCandidates, type Db, type SweepCandidate } from '@hooklane/db';
import { deliverJobId, enqueueDeliveries, type DeliveryQueue, type DeliveryToEnqueue, type RedisClient } from '@hooklane/queue';
import type { Logger } from 'pino';

/**
 * The outbox sweeper. PostgreSQL is the record of truth and Redis only a schedule, so a
 * pending delivery whose attempt is due but has no live job (a crash between commit and
 * enqueue, a Redis flush, a job that failed on a database outage) is queued again here.
 * Every worker runs it; a Redis lock lets one sweep per interval, and job ids per
 * (delivery, attempt) make a racing re-add harmless anyway.
 */

export interface SweeperOptions {
  db: Db;
  queue: DeliveryQueue;
  logger: Logger;
  intervalMs: number;
  /** How overdue a delivery must be before it counts as lost, so in-flight enqueues are not raced. */
  graceMs?: number;
  /** Deliveries looked at per sweep. */
  batchSize?: number;
  /** For the lock that lets one of N workers sweep per interval; without it each worker sweeps (still safe). */
  redis?: RedisClient | undefined;
}

export interface Sweeper {
  /** One pass now; returns how many deliveries were queued again. */
  sweepOnce(): Promise<number>;
  stop(): Promise<void>;
}

export const DEFAULT_SWEEP_GRACE_MS = 5_000;
const DEFAULT_BATCH_SIZE = 500;
const STOP_WAIT_MS = 2_000;
const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

export function startSweeper(options: SweeperOptions): Sweeper {
  const { db, queue, logger, intervalMs } = options;
  const graceMs = options.graceMs ?? DEFAULT_SWEEP_GRACE_MS;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const lockKey = `${queue.opts.prefix ?? 'bull'}:${queue.name}:sweeper-lock`;
  const token = randomBytes(8).toString('hex');

  async function sweepOnce(): Promise<number> {
    const now = Date.now();
    const candidates = await findSweepCandidates(db, {
      dueBefore: new Date(now - graceMs),
      createdBefore: new Date(now - graceMs),
      limit: batchSize,
    });
    if (candidates.length === 0) return 0;

    const jobless: SweepCandidate[] = [];
    const finishedJobs: string[] = [];
    await Promise.all(
      candidates.map(async (candidate) => {
        const jobId = deliverJobId(candidate.id, candidate.attempts + 1);
        const state = await queue.getJobState(jobId);
        if (LIVE_STATES.has(state)) return;
        if (state === 'completed' || state === 'failed') finishedJobs.push(jobId);
        jobless.push(candidate);
      }),
    );
    // A delivery may have been finished by its job between the first read and the Redis check.
    const stillPending = await filterStillPending(db, jobless);
    const lost: DeliveryToEnqueue[] = jobless
      .filter((c) => stillPending.has(c.id))
      .map((c) => ({ deliveryId: c.id, attempt: c.attempts + 1 }));
    // A finished job with the same id would make the re-add a silent no-op: remove it first.
    const lostJobIds = new Set(lost.map((l) => deliverJobId(l.deliveryId, l.attempt)));
    await Promise.all(finishedJobs.filter((id) => lostJobIds.has(id)).map((id) => queue.remove(id)));
    await enqueueDeliveries(queue, lost);
    if (lost.length > 0) logger.warn({ count: lost.length }, 'sweeper re-queued deliveries without a job');
    return lost.length;
  }

  async function takeTurn(): Promise<boolean> {
    if (!options.redis) return true;
    // Held for one interval and never released: with N workers the database is swept once per interval.
    const taken = await options.redis.set(lockKey, token, 'PX', intervalMs, 'NX');
    return taken === 'OK';
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = () => {
    running = (async () => {
      try {
        if (await takeTurn()) await sweepOnce();
      } catch (err) {
        logger.warn({ err: { message: (err as Error).message } }, 'sweep failed; will try again');
      }
    })();
    void running.then(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  timer = setTimeout(tick, Math.min(intervalMs, 1_000));

  return {
    sweepOnce,
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

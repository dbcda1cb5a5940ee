import { DelayedError, type Job } from 'bullmq';
import {
  cancelInLine,
  cancelPendingDelivery,
  parkIfBlocked,
  type AttemptRecorder,
  type Db,
  type DeliveryForAttempt,
  type DeliveryLoader,
  type WokenDelivery,
} from '@hooklane/db';
import { LEASE_MS, lineEntry, parseLineEntry, type DeliverJobData, type DeliveryQueue } from '@hooklane/queue';
import type { Logger } from 'pino';
import type { DeliveryPolicies } from './attempt-policies.js';
import type { DatabaseOutage } from './database-outage.js';
import type { HttpClient } from './deliver.js';
import { attemptOnce } from './attempt-once.js';
import { attemptRateLimit, type FailingThrottle } from './failing-throttle.js';
import type { WorkerMetrics } from './metrics.js';
import type { WebhookLine } from './webhook-line.js';

export interface DeliveryContext {
  db: Db;
  loader: DeliveryLoader;
  recorder: AttemptRecorder;
  queue: DeliveryQueue;
  logger: Logger;
  metrics: WorkerMetrics;
  http: HttpClient;
  policies: DeliveryPolicies;
  /** The per-webhook lines: in-flight cap, FIFO wait, rate_limit. */
  line: WebhookLine;
  /** True once the worker is shutting down: no more handoffs, freed slots go back to the queue. */
  stopping(): boolean;
  /** Tells a PostgreSQL outage from other errors, and pauses the worker through one. */
  outage?: DatabaseOutage;
  /** How a webhook that has failed for a while is slowed down; false never slows it. */
  failingThrottle: FailingThrottle | false;
}

/** A job that ran into a database outage comes back after this (plus jitter); the paused worker takes it once PostgreSQL is back. */
export const OUTAGE_RETRY_MS = 2_000;
/**
 * How many deliveries one job runs back to back by handoff before the freed slot goes back
 * through the queue: handoffs save the queue round trip, the bound lets jobs of other
 * webhooks waiting in the queue get this worker's concurrency in turn.
 */
export const MAX_HANDOFFS = 50;

export type DeliveryJob = Job<DeliverJobData>;

interface Turn {
  webhookId: string;
  entry: string;
  record?: DeliveryForAttempt | null;
}

/**
 * One job = one attempt, then the handoffs: the attempt's freed slot goes to the head of its
 * webhook's line, and this job runs that delivery too. Jobs carry ids only and the database
 * decides, so a duplicate or late job (a sweeper re-add, a stalled job run twice) does nothing.
 */
export function createDeliveryProcessor(ctx: DeliveryContext) {
  return async function processDelivery(job: DeliveryJob, token?: string): Promise<void> {
    const { deliveryId, attempt } = job.data;
    if (job.data.test === 1) return runTestPing(ctx, job, token);
    let webhookId = job.data.webhookId;
    let record: DeliveryForAttempt | null | undefined;
    if (webhookId === undefined) {
      // A job queued without its webhook (older producers): one read tells which line it joins.
      try {
        record = await ctx.loader.load(deliveryId);
      } catch (err) {
        if (!(await ctx.outage?.explains(err))) throw err;
        await job.moveToDelayed(Date.now() + OUTAGE_RETRY_MS + Math.round(Math.random() * OUTAGE_RETRY_MS), token);
        throw new DelayedError();
      }
      if (!record) return;
      webhookId = record.webhook.id;
    }
    const entry = lineEntry(deliveryId, attempt);
    const started = await ctx.line.start(webhookId, entry, job.data.leased === 1);
    await ctx.line.queueGranted(webhookId, started.granted);
    if (!started.go) return;

    let turn: Turn | undefined = { webhookId, entry, record };
    for (let handoffs = 0; turn; handoffs++) {
      const granted = await runTurn(ctx, turn);
      const keep = handoffs < MAX_HANDOFFS && !ctx.stopping() && granted.length > 0;
      await ctx.line.queueGranted(turn.webhookId, keep ? granted.slice(1) : granted);
      turn = keep ? { webhookId: turn.webhookId, entry: granted[0]! } : undefined;
    }
  };
}

/**
 * A test ping ("one signed delivery of event ping now") waits in no line: it is attempted at
 * once without a slot, so it may exceed MAX_IN_FLIGHT_PER_WEBHOOK by one, and it skips the
 * rate_limit wait for the same reason. A PostgreSQL outage delays the job like any other.
 */
async function runTestPing(ctx: DeliveryContext, job: DeliveryJob, token?: string): Promise<void> {
  const { deliveryId, attempt } = job.data;
  try {
    const record = await ctx.loader.load(deliveryId);
    if (!record || record.delivery.status !== 'pending' || record.delivery.attempts + 1 !== attempt) return;
    if (record.webhook.deletedAt !== null || !record.webhook.isActive) {
      await cancelPendingDelivery(ctx.db, deliveryId);
      return;
    }
    // A ping is in no line, so its end wakes nothing.
    await attemptOnce(ctx, record, attempt);
  } catch (err) {
    if (!(await ctx.outage?.explains(err))) throw err;
    await job.moveToDelayed(Date.now() + OUTAGE_RETRY_MS + Math.round(Math.random() * OUTAGE_RETRY_MS), token);
    throw new DelayedError();
  }
}

/** One attempt while holding the slot; returns the entries its freed slot was granted to. */
async function runTurn(ctx: DeliveryContext, turn: Turn): Promise<string[]> {
  const { webhookId, entry } = turn;
  const renewal = setInterval(() => {
    void ctx.line.renew(webhookId, entry).catch(() => undefined);
  }, Math.floor(LEASE_MS / 3));
  renewal.unref();
  let woken: WokenDelivery[];
  try {
    woken = await attemptTurn(ctx, turn);
  } catch (err) {
    clearInterval(renewal);
    if (!(await ctx.outage?.explains(err))) {
      // Not an outage: the job fails loudly; the row stays pending and the sweeper queues it again.
      await ctx.line.release(webhookId, entry).then((granted) => ctx.line.queueGranted(webhookId, granted));
      throw err;
    }
    // Not the delivery's fault: the same attempt waits at the head of its line for PostgreSQL.
    ctx.logger.warn(parseFields(entry), 'delivery handed back: PostgreSQL unreachable');
    await ctx.line.putBack(webhookId, entry, OUTAGE_RETRY_MS + Math.round(Math.random() * OUTAGE_RETRY_MS));
    return [];
  }
  clearInterval(renewal);
  // The next of its fifo line (committed due: if this call fails, the sweeper queues it) joins
  // the webhook's line as the slot frees, so a lone line goes on here by handoff.
  return ctx.line.release(webhookId, entry, woken.map((w) => lineEntry(w.id, w.attempt)));
}

/** The attempt of one turn, when it may be made; returns the fifo deliveries its end woke. */
async function attemptTurn(ctx: DeliveryContext, turn: Turn): Promise<WokenDelivery[]> {
  const { deliveryId, attempt } = parseLineEntry(turn.entry);
  const record = turn.record ?? (await ctx.loader.load(deliveryId));
  if (!record) {
    ctx.logger.warn({ delivery_id: deliveryId, attempt }, 'job for an unknown delivery ignored');
    return [];
  }
  if (record.delivery.status !== 'pending' || record.delivery.attempts + 1 !== attempt) return [];
  const fields = { event_id: record.event.id, webhook_id: record.webhook.id, delivery_id: deliveryId, attempt };
  if (record.webhook.deletedAt !== null || !record.webhook.isActive) {
    const { cancelled, woken } = await cancelDelivery(ctx, record);
    if (cancelled) ctx.logger.info(fields, 'delivery cancelled: webhook deleted or inactive');
    return woken;
  }
  // Its fifo line has an earlier delivery not yet ended: back to waiting, to be woken in turn.
  if (record.delivery.line?.blocked && (await parkIfBlocked(ctx.db, deliveryId))) {
    ctx.logger.info(fields, 'delivery waits for the one before it in its line');
    return [];
  }
  const rateLimit = attemptRateLimit(record.webhook, ctx.failingThrottle, Date.now());
  if (rateLimit !== null) {
    // Reserved, slept until then, confirmed: a late wake-up (a busy event loop) is checked again.
    let waitMs = await ctx.line.reserveStart(turn.webhookId, turn.entry, rateLimit);
    while (waitMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      waitMs = await ctx.line.reserveStart(turn.webhookId, turn.entry, rateLimit, true);
    }
  }
  return attemptOnce(ctx, record, attempt);
}

/** Ends a delivery without an attempt; one in a fifo line lets the next of its line go. */
async function cancelDelivery(
  ctx: DeliveryContext,
  record: DeliveryForAttempt,
): Promise<{ cancelled: boolean; woken: WokenDelivery[] }> {
  if (record.delivery.line === null) return { cancelled: await cancelPendingDelivery(ctx.db, record.delivery.id), woken: [] };
  return cancelInLine(ctx.db, record.delivery.id);
}

function parseFields(entry: string) {
  const { deliveryId, attempt } = parseLineEntry(entry);
  return { delivery_id: deliveryId, attempt };
}

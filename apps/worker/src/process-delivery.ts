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
import { attemptOnce, recordSentAttempt, sendAttempt, type SentAttempt } from './attempt-once.js';
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
    // The previous turn's record, still being written while this turn runs.
    let recording: Promise<RecordFailure | undefined> = NOTHING_LEFT;
    let recordFailure: RecordFailure | undefined;
    try {
      for (let handoffs = 0; turn; handoffs++) {
        const end = await runTurn(ctx, turn);
        // At most one record behind: a slow database slows the handoffs instead of piling up writes.
        recordFailure ??= await recording;
        recording = end.recorded;
        const keep = handoffs < MAX_HANDOFFS && !ctx.stopping() && recordFailure === undefined && end.granted.length > 0;
        await ctx.line.queueGranted(turn.webhookId, keep ? end.granted.slice(1) : end.granted);
        turn = keep ? { webhookId: turn.webhookId, entry: end.granted[0]! } : undefined;
      }
    } finally {
      recordFailure ??= await recording;
    }
    // A record that failed without a database outage fails the job, as it would have inline.
    if (recordFailure) throw recordFailure.error;
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

/** A record that failed, kept to fail the job once the turns are over. */
interface RecordFailure {
  error: unknown;
}

interface TurnEnd {
  /** Entries granted the slot this turn freed, head of the line first. */
  granted: string[];
  /**
   * The attempt's record and the entry's release, which may still be running once the slot is
   * freed. It never rejects: it can fail while the job still awaits the turn before, and a
   * rejection nobody awaits yet ends the whole process.
   */
  recorded: Promise<RecordFailure | undefined>;
}

const NOTHING_LEFT: Promise<undefined> = Promise.resolve(undefined);

/**
 * One attempt while holding the slot. The slot is freed as soon as the HTTP exchange ends
 * (`settle`), so its next holder loads and sends while this attempt is recorded: a webhook at
 * its cap keeps that many exchanges in flight, not that many exchanges and writes.
 */
async function runTurn(ctx: DeliveryContext, turn: Turn): Promise<TurnEnd> {
  const { webhookId, entry } = turn;
  const renewal = setInterval(() => {
    void ctx.line.renew(webhookId, entry).catch(() => undefined);
  }, Math.floor(LEASE_MS / 3));
  renewal.unref();
  const stopRenewal = () => clearInterval(renewal);
  let outcome: TurnOutcome;
  try {
    outcome = await attemptTurn(ctx, turn);
  } catch (err) {
    stopRenewal();
    await handBack(ctx, turn, err);
    return { granted: [], recorded: NOTHING_LEFT };
  }
  if (outcome.sent === undefined) {
    stopRenewal();
    // The next of its fifo line (committed due: if this call fails, the sweeper queues it) joins
    // the webhook's line as the slot frees, so a lone line goes on here by handoff.
    const granted = await ctx.line.release(webhookId, entry, outcome.woken.map((w) => lineEntry(w.id, w.attempt)));
    return { granted, recorded: NOTHING_LEFT };
  }
  const { sent } = outcome;
  const recordAndRelease = () => recordTurn(ctx, turn, sent).finally(stopRenewal);
  let granted: string[];
  try {
    granted = await ctx.line.settle(webhookId, entry);
  } catch {
    // The slot stays held until the release after the record, as if settling did not exist.
    await recordAndRelease();
    return { granted: [], recorded: NOTHING_LEFT };
  }
  return { granted, recorded: recordAndRelease().then(() => undefined, (error: unknown) => ({ error })) };
}

/** The record of a sent attempt, then the entry leaves Redis (slots it frees are queued). */
async function recordTurn(ctx: DeliveryContext, turn: Turn, sent: SentAttempt): Promise<void> {
  try {
    await recordSentAttempt(ctx, sent);
    await ctx.line.queueGranted(turn.webhookId, await ctx.line.release(turn.webhookId, turn.entry));
  } catch (err) {
    await handBack(ctx, turn, err);
  }
}

/**
 * A turn that threw: during a PostgreSQL outage the same attempt waits at the head of its line;
 * any other error fails the job loudly, the row stays pending and the sweeper queues it again.
 */
async function handBack(ctx: DeliveryContext, turn: Turn, err: unknown): Promise<void> {
  const { webhookId, entry } = turn;
  if (!(await ctx.outage?.explains(err))) {
    await ctx.line.release(webhookId, entry).then((granted) => ctx.line.queueGranted(webhookId, granted));
    throw err;
  }
  ctx.logger.warn(parseFields(entry), 'delivery handed back: PostgreSQL unreachable');
  await ctx.line.putBack(webhookId, entry, OUTAGE_RETRY_MS + Math.round(Math.random() * OUTAGE_RETRY_MS));
}

/** What a turn came to: an attempt sent and still to record, or an end already written (fifo deliveries wake the next of their line). */
type TurnOutcome = { sent: SentAttempt; woken?: undefined } | { sent?: undefined; woken: WokenDelivery[] };

/**
 * The attempt of one turn, when it may be made. A fifo delivery is recorded here, before its
 * slot is freed, so the delivery its end wakes can take that slot by handoff.
 */
async function attemptTurn(ctx: DeliveryContext, turn: Turn): Promise<TurnOutcome> {
  const { deliveryId, attempt } = parseLineEntry(turn.entry);
  const record = turn.record ?? (await ctx.loader.load(deliveryId));
  if (!record) {
    ctx.logger.warn({ delivery_id: deliveryId, attempt }, 'job for an unknown delivery ignored');
    return { woken: [] };
  }
  if (record.delivery.status !== 'pending' || record.delivery.attempts + 1 !== attempt) return { woken: [] };
  const fields = { event_id: record.event.id, webhook_id: record.webhook.id, delivery_id: deliveryId, attempt };
  if (record.webhook.deletedAt !== null || !record.webhook.isActive) {
    const { cancelled, woken } = await cancelDelivery(ctx, record);
    if (cancelled) ctx.logger.info(fields, 'delivery cancelled: webhook deleted or inactive');
    return { woken };
  }
  // Its fifo line has an earlier delivery not yet ended: back to waiting, to be woken in turn.
  if (record.delivery.line?.blocked && (await parkIfBlocked(ctx.db, deliveryId))) {
    ctx.logger.info(fields, 'delivery waits for the one before it in its line');
    return { woken: [] };
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
  if (record.delivery.line !== null) return { woken: await attemptOnce(ctx, record, attempt) };
  return { sent: await sendAttempt(ctx, record, attempt) };
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

import { DelayedError, type Job } from 'bullmq';
import { cancelPendingDelivery, loadDeliveryForAttempt, type Db, type DeliveryForAttempt } from '@hooklane/db';
import type { DeliverJobData, DeliveryQueue } from '@hooklane/queue';
import type { Logger } from 'pino';
import type { DeliveryPolicies } from './attempt-policies.js';
import type { DatabaseOutage } from './database-outage.js';
import type { HttpAttemptResult, HttpClient } from './deliver.js';
import { buildDeliveryRequest } from './delivery-request.js';
import { statusClass, type WorkerMetrics } from './metrics.js';
import { recordAttemptOutcome } from './record-attempt.js';
import { attemptError, decideAfterAttempt, scheduleRetry, type AttemptVerdict } from './schedule-retry.js';

export interface DeliveryContext {
  db: Db;
  queue: DeliveryQueue;
  logger: Logger;
  metrics: WorkerMetrics;
  http: HttpClient;
  policies: DeliveryPolicies;
  /** Tells a PostgreSQL outage from other errors, and pauses the worker through one. */
  outage?: DatabaseOutage;
}

/** A job that ran into a database outage comes back after this (plus jitter); the paused worker takes it once PostgreSQL is back. */
export const OUTAGE_RETRY_MS = 2_000;

export type DeliveryJob = Job<DeliverJobData>;

/**
 * One job = one attempt: load, decide whether it is still wanted, attempt, record,
 * schedule the next. Jobs carry ids only and the database decides, so a duplicate or late
 * job (a sweeper re-add, a stalled job run twice) does nothing.
 */
export function createDeliveryProcessor(ctx: DeliveryContext) {
  return async function processDelivery(job: DeliveryJob, token?: string): Promise<void> {
    try {
      await processOnce(ctx, job, token);
    } catch (err) {
      if (err instanceof DelayedError || !(await ctx.outage?.explains(err))) throw err;
      // Not the delivery's fault: the same attempt runs again once PostgreSQL is back. An
      // attempt made but not recorded is made again then (a duplicate, never a loss).
      ctx.logger.warn(logFields(job.data), 'delivery handed back: PostgreSQL unreachable');
      await job.moveToDelayed(Date.now() + OUTAGE_RETRY_MS + Math.round(Math.random() * OUTAGE_RETRY_MS), token);
      throw new DelayedError();
    }
  };
}

async function processOnce(ctx: DeliveryContext, job: DeliveryJob, token: string | undefined): Promise<void> {
  const { deliveryId, attempt } = job.data;
  const record = await loadDeliveryForAttempt(ctx.db, deliveryId);
  if (!record) {
    ctx.logger.warn({ delivery_id: deliveryId, attempt }, 'job for an unknown delivery ignored');
    return;
  }
  if (record.delivery.status !== 'pending' || record.delivery.attempts + 1 !== attempt) {
    await leaveLine(ctx, record, job);
    return;
  }

  if (record.webhook.deletedAt !== null || !record.webhook.isActive) {
    if (await cancelPendingDelivery(ctx.db, deliveryId)) {
      ctx.logger.info(recordFields(record, attempt), 'delivery cancelled: webhook deleted or inactive');
    }
    await leaveLine(ctx, record, job);
    return;
  }

  const admission = await ctx.policies.admit(record);
  if (!admission.go) {
    // Same job, later: waiting for a rate limit or a free in-flight slot is not a failure.
    await job.moveToDelayed(Date.now() + admission.retryInMs, token);
    throw new DelayedError();
  }
  try {
    await attemptOnce(ctx, record, attempt);
  } finally {
    await admission.release();
  }
}

/** A job that ends without an attempt may have been waiting for admission: it gives up its place. */
async function leaveLine(ctx: DeliveryContext, record: DeliveryForAttempt, job: DeliveryJob): Promise<void> {
  if (!ctx.policies.abandon || job.id === undefined) return;
  await ctx.policies.abandon(record.webhook.id, job.id).catch((err: unknown) => {
    ctx.logger.warn({ ...recordFields(record, job.data.attempt), err: { message: (err as Error).message } }, 'could not leave the admission line');
  });
}

async function attemptOnce(ctx: DeliveryContext, record: DeliveryForAttempt, attempt: number): Promise<void> {
  const request = buildDeliveryRequest(record, attempt, new Date());
  const result = await ctx.http.send(request);
  const verdict = decideAfterAttempt(record, attempt, result);

  const recorded = await recordAttemptOutcome(ctx.db, record, attempt, result, verdict);
  if (!recorded) {
    ctx.logger.info(recordFields(record, attempt), 'attempt already recorded by another worker');
    return;
  }
  if (verdict.status === 'pending') await scheduleRetry(ctx.queue, record.delivery.id, attempt + 1, verdict.delayMs);

  observe(ctx, record, attempt, result, verdict);
  await ctx.policies.afterAttempt({ record, attempt, result, verdict });
}

function logFields(data: DeliverJobData) {
  return { delivery_id: data.deliveryId, attempt: data.attempt };
}

function recordFields(record: DeliveryForAttempt, attempt: number) {
  return {
    event_id: record.event.id,
    webhook_id: record.webhook.id,
    delivery_id: record.delivery.id,
    attempt,
  };
}

function observe(
  ctx: DeliveryContext,
  record: DeliveryForAttempt,
  attempt: number,
  result: HttpAttemptResult,
  verdict: AttemptVerdict,
): void {
  const outcome = verdict.status === 'succeeded' ? 'success' : 'failure';
  const { metrics } = ctx;
  metrics.attempts.inc({ outcome, status_class: result.error === null ? statusClass(result.statusCode) : 'error' });
  metrics.attemptDuration.observe(result.durationMs / 1000);
  if (verdict.status === 'succeeded') {
    metrics.completed.inc({ result: 'succeeded' });
    metrics.latency.observe((Date.now() - record.event.createdAt.getTime()) / 1000);
  } else if (verdict.status === 'failed') {
    metrics.completed.inc({ result: 'failed' });
  }

  ctx.logger.info(
    {
      ...recordFields(record, attempt),
      status_code: result.statusCode,
      duration_ms: result.durationMs,
      outcome,
      error: attemptError(result),
      ...(verdict.status === 'pending' ? { next_attempt_in_ms: verdict.delayMs } : {}),
      ...(verdict.status === 'failed' ? { final: verdict.reason } : {}),
    },
    'delivery attempt',
  );
}

import type { Db } from './client.js';

/**
 * The worker's hot path: per attempt one query to read and one statement to write. Raw SQL
 * because Prisma would split an `include` of two relations into three round trips, and the
 * write must be one conditional statement so that two workers racing on the same attempt
 * (a stalled job taken over while the first is still running) record it once.
 */

export type DeliveryStatusName = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export interface DeliveryForAttempt {
  delivery: {
    id: string;
    status: DeliveryStatusName;
    attempts: number;
    isTest: boolean;
    createdAt: Date;
  };
  webhook: {
    id: string;
    teamId: number;
    url: string;
    headers: Record<string, string>;
    secret: string;
    previousSecret: string | null;
    previousSecretExpiresAt: Date | null;
    retriesCount: number;
    retriesDelay: number;
    retryBackoff: 'fixed' | 'exponential';
    followRedirect: boolean;
    rejectUnauthorized: boolean;
    timeout: number;
    isActive: boolean;
    deletedAt: Date | null;
    rateLimit: number | null;
    failingSince: Date | null;
  };
  event: {
    id: string;
    type: string;
    teamId: number;
    projectId: number | null;
    timestamp: Date;
    data: unknown;
    sender: object | null;
    createdAt: Date;
  };
}

interface AttemptRow {
  d_id: string;
  d_status: DeliveryStatusName;
  d_attempts: number;
  d_is_test: boolean;
  d_created_at: Date;
  w_id: string;
  w_team_id: number;
  w_url: string;
  w_headers: unknown;
  w_secret: string;
  w_previous_secret: string | null;
  w_previous_secret_expires_at: Date | null;
  w_retries_count: number;
  w_retries_delay: number;
  w_retry_backoff: 'fixed' | 'exponential';
  w_follow_redirect: boolean;
  w_reject_unauthorized: boolean;
  w_timeout: number;
  w_is_active: boolean;
  w_deleted_at: Date | null;
  w_rate_limit: number | null;
  w_failing_since: Date | null;
  e_id: string;
  e_type: string;
  e_team_id: number;
  e_project_id: number | null;
  e_timestamp: Date;
  e_data: unknown;
  e_sender: unknown;
  e_created_at: Date;
}

function stringHeaders(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) if (typeof v === 'string') out[name] = v;
  return out;
}

/** The delivery with its webhook and event, in one query; null when the id is unknown. */
export async function loadDeliveryForAttempt(db: Db, deliveryId: string): Promise<DeliveryForAttempt | null> {
  const rows = await db.$queryRaw<AttemptRow[]>`
    SELECT d.id AS d_id, d.status::text AS d_status, d.attempts AS d_attempts, d.is_test AS d_is_test,
           d.created_at AS d_created_at,
           w.id AS w_id, w.team_id AS w_team_id, w.url AS w_url, w.headers AS w_headers, w.secret AS w_secret,
           w.previous_secret AS w_previous_secret, w.previous_secret_expires_at AS w_previous_secret_expires_at,
           w.retries_count AS w_retries_count, w.retries_delay AS w_retries_delay,
           w.retry_backoff::text AS w_retry_backoff, w.follow_redirect AS w_follow_redirect,
           w.reject_unauthorized AS w_reject_unauthorized, w.timeout AS w_timeout, w.is_active AS w_is_active,
           w.deleted_at AS w_deleted_at, w.rate_limit AS w_rate_limit, w.failing_since AS w_failing_since,
           e.id AS e_id, e.type AS e_type, e.team_id AS e_team_id, e.project_id AS e_project_id,
           e.timestamp AS e_timestamp, e.data AS e_data, e.sender AS e_sender, e.created_at AS e_created_at
      FROM deliveries d
      JOIN webhooks w ON w.id = d.webhook_id
      JOIN events e ON e.id = d.event_id
     WHERE d.id = ${deliveryId}`;
  const r = rows[0];
  if (!r) return null;
  return {
    delivery: {
      id: r.d_id,
      status: r.d_status,
      attempts: r.d_attempts,
      isTest: r.d_is_test,
      createdAt: r.d_created_at,
    },
    webhook: {
      id: r.w_id,
      teamId: r.w_team_id,
      url: r.w_url,
      headers: stringHeaders(r.w_headers),
      secret: r.w_secret,
      previousSecret: r.w_previous_secret,
      previousSecretExpiresAt: r.w_previous_secret_expires_at,
      retriesCount: r.w_retries_count,
      retriesDelay: r.w_retries_delay,
      retryBackoff: r.w_retry_backoff,
      followRedirect: r.w_follow_redirect,
      rejectUnauthorized: r.w_reject_unauthorized,
      timeout: r.w_timeout,
      isActive: r.w_is_active,
      deletedAt: r.w_deleted_at,
      rateLimit: r.w_rate_limit,
      failingSince: r.w_failing_since,
    },
    event: {
      id: r.e_id,
      type: r.e_type,
      teamId: r.e_team_id,
      projectId: r.e_project_id,
      timestamp: r.e_timestamp,
      data: r.e_data,
      sender: r.e_sender !== null && typeof r.e_sender === 'object' ? r.e_sender : null,
      createdAt: r.e_created_at,
    },
  };
}

export interface RecordAttemptInput {
  attemptId: string;
  deliveryId: string;
  webhookId: string;
  /** 1-based number of this attempt; recorded only while the delivery still has `attempt - 1`. */
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  responseBody: string | null;
  error: string | null;
  /** The delivery's state after this attempt. */
  status: 'pending' | 'succeeded' | 'failed';
  nextAttemptAt: Date | null;
  /** Test pings leave the webhook's failure streak alone. */
  countsTowardHealth: boolean;
}

/**
 * Stores one attempt and moves the delivery and webhook on, atomically (one statement).
 * Returns false when the delivery was no longer pending at `attempt - 1`: another worker
 * recorded this attempt first, or the delivery was cancelled meanwhile.
 */
export async function recordAttempt(db: Db, input: RecordAttemptInput): Promise<boolean> {
  const succeeded = input.status === 'succeeded';
  const rows = await db.$queryRaw<{ recorded: number }[]>`
    WITH d AS (
      UPDATE deliveries
         SET status = ${input.status}::"DeliveryStatus",
             attempts = ${input.attempt},
             last_status_code = ${input.statusCode},
             next_attempt_at = ${input.nextAttemptAt},
             updated_at = now()
       WHERE id = ${input.deliveryId} AND status = 'pending' AND attempts = ${input.attempt - 1}
       RETURNING id, webhook_id
    ), a AS (
      INSERT INTO attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, response_body, error)
      SELECT ${input.attemptId}, d.id, ${input.attempt}, ${input.startedAt}, ${input.durationMs},
             ${input.statusCode}, ${input.responseBody}, ${input.error}
        FROM d
      RETURNING 1
    ), w AS (
      UPDATE webhooks
         SET last_status = ${input.statusCode},
             last_delivery_at = now(),
             failing_since = CASE
               WHEN NOT ${input.countsTowardHealth} THEN failing_since
               WHEN ${succeeded} THEN NULL
               ELSE COALESCE(failing_since, ${input.startedAt})
             END
       WHERE id = (SELECT webhook_id FROM d)
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM d)::int AS recorded`;
  return (rows[0]?.recorded ?? 0) > 0;
}

/** Ends a pending delivery without an attempt (its webhook was deleted or switched off). */
export async function cancelPendingDelivery(db: Db, deliveryId: string): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = now()
     WHERE id = ${deliveryId} AND status = 'pending'`;
  return count > 0;
}

/** Turns a webhook off on the service's own initiative (`disabled_reason` says why). */
export async function disableWebhook(db: Db, webhookId: string, reason: string): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE webhooks SET is_active = false, disabled_reason = ${reason}, updated_at = now()
     WHERE id = ${webhookId} AND is_active AND deleted_at IS NULL`;
  return count > 0;
}

export interface SweepCandidate {
  id: string;
  attempts: number;
  nextAttemptAt: Date | null;
}

export interface FindSweepCandidatesInput {
  /** Pending deliveries whose next attempt was due before this. */
  dueBefore: Date;
  /** Pending deliveries without a next attempt time created before this. */
  createdBefore: Date;
  limit: number;
}

/** Pending deliveries that should already have a job; the sweeper checks Redis for each. */
export async function findSweepCandidates(db: Db, input: FindSweepCandidatesInput): Promise<SweepCandidate[]> {
  const rows = await db.$queryRaw<{ id: string; attempts: number; next_attempt_at: Date | null }[]>`
    (SELECT id, attempts, next_attempt_at FROM deliveries
      WHERE status = 'pending' AND next_attempt_at <= ${input.dueBefore}
      ORDER BY next_attempt_at LIMIT ${input.limit})
    UNION ALL
    (SELECT id, attempts, next_attempt_at FROM deliveries
      WHERE status = 'pending' AND next_attempt_at IS NULL AND created_at <= ${input.createdBefore}
      ORDER BY created_at LIMIT ${input.limit})`;
  return rows.map((r) => ({ id: r.id, attempts: r.attempts, nextAttemptAt: r.next_attempt_at }));
}

/**
 * Of these (delivery, attempts) pairs, the ids still pending at exactly that attempt count.
 * The sweeper asks again after finding no job: a delivery finished between its first read
 * and the Redis check (its job then already gone) must not be queued again.
 */
export async function filterStillPending(db: Db, items: Array<{ id: string; attempts: number }>): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT d.id FROM deliveries d
      JOIN unnest(${items.map((i) => i.id)}::text[], ${items.map((i) => i.attempts)}::int[]) AS c(id, attempts)
        ON c.id = d.id AND c.attempts = d.attempts
     WHERE d.status = 'pending'`;
  return new Set(rows.map((r) => r.id));
}

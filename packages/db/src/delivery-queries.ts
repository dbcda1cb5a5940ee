import { sql, type Db } from './client.js';
import { Coalescer, perClient } from './coalescer.js';

/**
 * The worker's hot path: per attempt one query to read and one statement to write, and
 * concurrent attempts share them (see coalescer.ts): the loads of jobs starting together are
 * one `= ANY` query, the attempts finishing together one statement. Raw SQL because Prisma
 * would split an `include` of two relations into three round trips, and the write must be one
 * conditional statement so that two workers racing on the same attempt (a stalled job taken
 * over while the first is still running) record it once.
 */

/** Largest batch of one statement; 50 is a worker's default concurrency. */
const MAX_BATCH = 100;
/** Batches of one process running at once; calls arriving meanwhile form the next batch. */
const MAX_IN_FLIGHT = 2;

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
export function loadDeliveryForAttempt(db: Db, deliveryId: string): Promise<DeliveryForAttempt | null> {
  return loaderOf(db).add(deliveryId);
}

const loaderOf = perClient(
  (db: Db) =>
    new Coalescer<string, DeliveryForAttempt | null>({
      run: (ids) => loadDeliveriesForAttempt(db, ids),
      maxBatch: MAX_BATCH,
      maxInFlight: MAX_IN_FLIGHT,
    }),
);

/** Several deliveries with their webhooks and events in one query; null for an unknown id, in input order. */
export async function loadDeliveriesForAttempt(db: Db, deliveryIds: string[]): Promise<Array<DeliveryForAttempt | null>> {
  if (deliveryIds.length === 0) return [];
  const rows = await sql<AttemptRow>(
    db,
    `
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
     WHERE d.id = ANY($1::text[])`,
    [deliveryIds],
  );
  const byId = new Map(rows.map((r) => [r.d_id, r]));
  // Each caller gets its own object: callers may hold on to (or change) what they were given.
  return deliveryIds.map((id) => {
    const r = byId.get(id);
    return r ? toDeliveryForAttempt(r) : null;
  });
}

function toDeliveryForAttempt(r: AttemptRow): DeliveryForAttempt {
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
 * recorded this attempt first, or the delivery was cancelled meanwhile. Attempts finishing
 * together in this process share one statement (`recordAttempts`); each caller still learns
 * whether its own attempt was recorded, and only once it is committed.
 */
export function recordAttempt(db: Db, input: RecordAttemptInput): Promise<boolean> {
  return recorderOf(db).add(input);
}

const recorderOf = perClient(
  (db: Db) =>
    new Coalescer<RecordAttemptInput, boolean>({
      run: (inputs) => recordAttempts(db, inputs),
      maxBatch: MAX_BATCH,
      maxInFlight: MAX_IN_FLIGHT,
    }),
);

const DEADLOCK_RETRIES = 3;

/**
 * `recordAttempt` for several attempts: whether each was recorded, in input order. Two
 * attempts on the same delivery go to separate statements, in input order, so the second
 * sees the first's outcome exactly as two separate calls would.
 */
export async function recordAttempts(db: Db, inputs: RecordAttemptInput[]): Promise<boolean[]> {
  const recorded = new Array<boolean>(inputs.length).fill(false);
  let rest = inputs.map((input, index) => ({ input, index }));
  while (rest.length > 0) {
    const seen = new Set<string>();
    const round: typeof rest = [];
    const later: typeof rest = [];
    for (const item of rest) {
      if (seen.has(item.input.deliveryId)) later.push(item);
      else {
        seen.add(item.input.deliveryId);
        round.push(item);
      }
    }
    const won = await withDeadlockRetry(() => recordAttemptsOnce(db, round.map((item) => item.input)));
    round.forEach((item, i) => {
      recorded[item.index] = won.has(i + 1);
    });
    rest = later;
  }
  return recorded;
}

/** A deadlock rolls the whole statement back, so running it again records nothing twice. */
async function withDeadlockRetry<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= DEADLOCK_RETRIES || !/deadlock detected|40P01/i.test(String((err as Error)?.message ?? err))) throw err;
    }
  }
}

/**
 * One statement for attempts on distinct deliveries; the 1-based positions of those recorded.
 * The webhook row takes what a sequence of single writes would have left: the last recorded
 * attempt's status code, and a failure streak that a counted success ends and the first
 * counted failure after it starts. Webhook rows are locked in id order first, so two batches
 * sharing webhooks (two workers, or two batches of one) queue instead of deadlocking; the lock
 * is the one the UPDATE takes anyway (NO KEY), which lets ingest's inserts of deliveries
 * (a foreign-key check on the webhook) through.
 */
async function recordAttemptsOnce(db: Db, inputs: RecordAttemptInput[]): Promise<Set<number>> {
  const rows = await sql<{ idx: number }>(
    db,
    `
    WITH input AS (
      SELECT * FROM unnest(
        $1::text[],
        $2::text[],
        $3::text[],
        $4::int[],
        $5::timestamptz[],
        $6::int[],
        $7::int[],
        $8::text[],
        $9::text[],
        $10::text[],
        $11::timestamptz[],
        $12::boolean[]
      ) WITH ORDINALITY AS c(attempt_id, delivery_id, webhook_id, attempt, started_at, duration_ms, status_code,
                             response_body, error, status, next_at, counts, idx)
    ), locked AS (
      SELECT w.id FROM webhooks w WHERE w.id = ANY($13::text[]) ORDER BY w.id FOR NO KEY UPDATE
    ), d AS (
      UPDATE deliveries dl
         SET status = c.status::"DeliveryStatus",
             attempts = c.attempt,
             last_status_code = c.status_code,
             next_attempt_at = c.next_at,
             updated_at = now()
        FROM input c
       -- The ANY lets the primary key find the rows even while the table's statistics are stale.
       WHERE dl.id = ANY($2::text[])
         AND dl.id = c.delivery_id AND dl.status = 'pending' AND dl.attempts = c.attempt - 1
       RETURNING c.idx, dl.webhook_id
    ), rec AS (
      SELECT c.*, d.webhook_id AS wid FROM d JOIN input c ON c.idx = d.idx
    ), a AS (
      INSERT INTO attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, response_body, error)
      SELECT r.attempt_id, r.delivery_id, r.attempt, r.started_at, r.duration_ms, r.status_code, r.response_body, r.error
        FROM rec r
      RETURNING 1
    ), per_webhook AS (
      SELECT r.wid,
             (array_agg(r.status_code ORDER BY r.idx DESC))[1] AS last_status,
             bool_or(r.counts) AS any_counted,
             max(r.idx) FILTER (WHERE r.counts AND r.status = 'succeeded') AS last_success
        FROM rec r
       GROUP BY r.wid
    ), streak AS (
      SELECT p.*,
             (SELECT r.started_at FROM rec r
               WHERE r.wid = p.wid AND r.counts AND r.status <> 'succeeded' AND r.idx > COALESCE(p.last_success, 0)
               ORDER BY r.idx LIMIT 1) AS failing_from
        FROM per_webhook p
    ), w AS (
      UPDATE webhooks w
         SET last_status = s.last_status,
             last_delivery_at = now(),
             failing_since = CASE
               WHEN NOT s.any_counted THEN w.failing_since
               WHEN s.failing_from IS NULL THEN NULL
               WHEN s.last_success IS NULL THEN COALESCE(w.failing_since, s.failing_from)
               ELSE s.failing_from
             END
        FROM streak s
       WHERE w.id = s.wid AND w.id IN (SELECT id FROM locked)
      RETURNING 1
    )
    SELECT idx::int AS idx FROM d`,
    [
      inputs.map((i) => i.attemptId),
      inputs.map((i) => i.deliveryId),
      inputs.map((i) => i.webhookId),
      inputs.map((i) => i.attempt),
      inputs.map((i) => i.startedAt.toISOString()),
      inputs.map((i) => i.durationMs),
      inputs.map((i) => i.statusCode),
      inputs.map((i) => i.responseBody),
      inputs.map((i) => i.error),
      inputs.map((i) => i.status),
      inputs.map((i) => (i.nextAttemptAt === null ? null : i.nextAttemptAt.toISOString())),
      inputs.map((i) => i.countsTowardHealth),
      [...new Set(inputs.map((i) => i.webhookId))],
    ],
  );
  return new Set(rows.map((r) => r.idx));
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

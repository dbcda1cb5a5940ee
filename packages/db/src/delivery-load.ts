import { sql, type Db } from './client.js';
import { Coalescer } from './coalescer.js';

/**
 * The worker's hot path, read side: per attempt one query, and the loads of attempts starting
 * together share one `= ANY` query (see coalescer.ts). Raw SQL because Prisma would split an
 * `include` of two relations into three round trips.
 */

/** Largest batch of one statement; 50 is a worker's default concurrency. */
export const MAX_BATCH = 100;
/** Batches of one process running at once; calls arriving meanwhile form the next batch. */
export const MAX_IN_FLIGHT = 2;

export type DeliveryStatusName = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export interface DeliveryLinePlace {
  /** Sent as X-Webhook-Sequence. */
  sequence: number;
  /** An earlier delivery of the line has not ended: this one must not be attempted yet. */
  blocked: boolean;
}

export interface DeliveryForAttempt {
  delivery: {
    id: string;
    status: DeliveryStatusName;
    attempts: number;
    isTest: boolean;
    createdAt: Date;
    /** Its place in a fifo line; null for a delivery in none (unordered, or a test ping). */
    line: DeliveryLinePlace | null;
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
  l_sequence: number | null;
  l_blocked: boolean | null;
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

export interface DeliveryLoader {
  /** The delivery with its webhook and event; null when the id is unknown. Concurrent calls share a query. */
  load(deliveryId: string): Promise<DeliveryForAttempt | null>;
}

/** One per process, built in main.ts (or a test's setup) and passed down in deps. */
export function createDeliveryLoader(db: Db): DeliveryLoader {
  const coalescer = new Coalescer<string, DeliveryForAttempt | null>({
    run: (ids) => loadDeliveriesForAttempt(db, ids),
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });
  return { load: (deliveryId) => coalescer.add(deliveryId) };
}

/** Several deliveries with their webhooks and events in one query; null for an unknown id, in input order. */
export async function loadDeliveriesForAttempt(db: Db, deliveryIds: string[]): Promise<Array<DeliveryForAttempt | null>> {
  if (deliveryIds.length === 0) return [];
  const rows = await sql<AttemptRow>(
    db,
    `
    SELECT d.id AS d_id, d.status::text AS d_status, d.attempts AS d_attempts, d.is_test AS d_is_test,
           d.created_at AS d_created_at,
           le.sequence AS l_sequence,
           CASE WHEN le.delivery_id IS NOT NULL THEN EXISTS (
             SELECT 1 FROM line_entries b
              WHERE b.webhook_id = le.webhook_id AND b.line = le.line AND b.sequence < le.sequence
           ) END AS l_blocked,
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
      LEFT JOIN line_entries le ON le.delivery_id = d.id
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
      line: r.l_sequence === null ? null : { sequence: r.l_sequence, blocked: r.l_blocked === true },
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


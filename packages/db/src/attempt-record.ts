import { sql, withPgTransaction, type Db, type SqlTransaction } from './client.js';
import { Coalescer } from './coalescer.js';
import { MAX_BATCH, MAX_IN_FLIGHT } from './delivery-load.js';
import type { Prisma } from './generated/prisma/client.js';
import { advanceLines, type WokenDelivery } from './ordering-lines.js';

/**
 * The worker's hot path, write side: one conditional statement per attempt, so that two
 * workers racing on the same attempt (a stalled job taken over while the first is still
 * running) record it once; attempts finishing together in one process share a statement.
 */

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
  /** The delivery holds its fifo line: when it ends, the line moves on in the same transaction. */
  inLine?: boolean;
}

export interface RecordOutcome {
  /** False when another worker recorded this attempt first, or the delivery was cancelled. */
  recorded: boolean;
  /** Deliveries whose turn came because this one ended: to be queued by the caller. */
  woken: WokenDelivery[];
}

/**
 * `AttemptRecorder.record`: stores one attempt and moves the delivery and webhook on, atomically (one statement).
 * Returns false when the delivery was no longer pending at `attempt - 1`: another worker
 * recorded this attempt first, or the delivery was cancelled meanwhile. Attempts finishing
 * together in this process share one statement (`recordAttempts`); each caller still learns
 * whether its own attempt was recorded, and only once it is committed.
 */
export interface AttemptRecorder {
  record(input: RecordAttemptInput): Promise<RecordOutcome>;
}

/** One per process, built in main.ts (or a test's setup) and passed down in deps. */
export function createAttemptRecorder(db: Db): AttemptRecorder {
  const coalescer = new Coalescer<RecordAttemptInput, RecordOutcome>({
    run: (inputs) => recordAttemptsAndAdvance(db, inputs),
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });
  return { record: (input) => coalescer.add(input) };
}

const DEADLOCK_RETRIES = 3;

const endsLine = (input: RecordAttemptInput) => input.inLine === true && input.status !== 'pending';

/**
 * `recordAttempts`, and when one of them ends a fifo delivery, its line moves on in the same
 * transaction: a crash cannot leave an ended head blocking its line. Batches without a fifo
 * end (all of them unless fifo webhooks are in use) stay one statement, no transaction.
 */
async function recordAttemptsAndAdvance(db: Db, inputs: RecordAttemptInput[]): Promise<RecordOutcome[]> {
  if (!inputs.some(endsLine)) return (await recordAttempts(db, inputs)).map((recorded) => ({ recorded, woken: [] }));
  return withDeadlockRetry(() =>
    withPgTransaction(db, async (tx) => {
      const recorded = await recordRounds(tx, inputs, (run) => run());
      const ended = inputs.filter((input, i) => recorded[i] && endsLine(input)).map((input) => input.deliveryId);
      const woken = await advanceLines(tx, ended);
      // Every woken delivery is queued once: the first ending input's caller takes them all.
      const first = inputs.findIndex((input, i) => recorded[i] && endsLine(input));
      return recorded.map((ok, i) => ({ recorded: ok, woken: i === first ? woken : [] }));
    }),
  );
}

/**
 * `recordAttempt` for several attempts: whether each was recorded, in input order. Two
 * attempts on the same delivery go to separate statements, in input order, so the second
 * sees the first's outcome exactly as two separate calls would.
 */
export async function recordAttempts(db: Db, inputs: RecordAttemptInput[]): Promise<boolean[]> {
  return recordRounds(db, inputs, withDeadlockRetry);
}

/** Rounds of distinct deliveries, each one statement run through `guard`. */
async function recordRounds(
  db: Db | SqlTransaction,
  inputs: RecordAttemptInput[],
  guard: (run: () => Promise<Set<number>>) => Promise<Set<number>>,
): Promise<boolean[]> {
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
    const won = await guard(() => recordAttemptsOnce(db, round.map((item) => item.input)));
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

// Over 60 lines: mostly the text of the one SQL statement, kept whole so it reads as it runs.
/**
 * One statement for attempts on distinct deliveries; the 1-based positions of those recorded.
 * The webhook row takes what a sequence of single writes would have left: the last recorded
 * attempt's status code, and a failure streak that a counted success ends and the first
 * counted failure after it starts. Webhook rows are locked in id order first, so two batches
 * sharing webhooks (two workers, or two batches of one) queue instead of deadlocking; the lock
 * is the one the UPDATE takes anyway (NO KEY), which lets ingest's inserts of deliveries
 * (a foreign-key check on the webhook) through.
 */
async function recordAttemptsOnce(db: Db | SqlTransaction, inputs: RecordAttemptInput[]): Promise<Set<number>> {
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


import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { generateSecret, newId } from '@hooklane/core';
import { createDb, createDeliveries, type DeliveryToCreate } from '@hooklane/db';
import { REPO_ROOT } from './children/registry.js';

const run = promisify(execFile);

export interface BenchDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

function withDatabase(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A database of its own for this run, migrated with the repo's migrations; dropped at the end. */
export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `hooklane_bench_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(adminUrl, name);
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const drop = () => admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined);
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url };
    // Where Prisma's native schema engine cannot be downloaded, CI uses a WebAssembly stand-in.
    const engine = resolve(REPO_ROOT, '../shared/prisma-engine/schema-engine');
    if (!env.PRISMA_SCHEMA_ENGINE_BINARY && existsSync(engine)) env.PRISMA_SCHEMA_ENGINE_BINARY = engine;
    await run('npx', ['prisma', 'migrate', 'deploy'], { cwd: REPO_ROOT, env, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
  // Idle connections are kept: workers may take every free slot of max_connections meanwhile.
  const pool = new pg.Pool({ connectionString: url, max: 2, idleTimeoutMillis: 0 });
  // An idle client ended by the server (the database dropped under it at the end) must not crash the run.
  pool.on('error', () => undefined);
  const held = await Promise.all([pool.connect(), pool.connect()]);
  for (const client of held) client.release();
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      await drop();
    },
  };
}

/** Empties every table between scenarios, so each starts from the same state. */
export async function truncateAll(pool: pg.Pool): Promise<void> {
  await pool.query('TRUNCATE attempts, deliveries, events, webhooks, api_keys, delivery_lines, line_entries');
  // Dead tuples from the previous scenario would otherwise skew the next one's plans and I/O.
  await pool.query('VACUUM ANALYZE');
}

export interface WebhookSpec {
  teamId: number;
  projectId: number | null;
  url: string;
  events: string[];
  timeoutSeconds: number;
  /** Ordered delivery (v1.1); the API's default, "none", when not given. */
  ordering?: 'none' | 'fifo';
}

/** Webhooks written straight into the table, with the same defaults the API applies. */
export async function insertWebhooks(pool: pg.Pool, specs: WebhookSpec[]): Promise<string[]> {
  const ids = specs.map(() => newId('wh'));
  await pool.query(
    `INSERT INTO webhooks (id, team_id, project_id, url, events, secret, timeout, ordering, updated_at)
     SELECT id, team_id, project_id, url, string_to_array(events, ','), secret, timeout, ordering::"Ordering", now()
       FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[])
         AS t(id, team_id, project_id, url, events, secret, timeout, ordering)`,
    [
      ids,
      specs.map((s) => s.teamId),
      specs.map((s) => s.projectId),
      specs.map((s) => s.url),
      specs.map((s) => s.events.join(',')),
      specs.map(() => generateSecret()),
      specs.map((s) => s.timeoutSeconds),
      specs.map((s) => s.ordering ?? 'none'),
    ],
  );
  return ids;
}

export interface SeedTarget {
  webhookId: string;
  teamId: number;
  projectId: number | null;
}

export interface SeededDelivery {
  deliveryId: string;
  eventId: string;
  webhookId: string;
  /** Behind another delivery of its fifo line: not queued, woken when its turn comes (as ingest leaves it). */
  waiting: boolean;
}

/**
 * `count` events, each with one pending delivery to `targets[i % targets.length]`, written
 * by the outbox (packages/db createDeliveries) as every delivery is, so the rows are what
 * ingest leaves; 1000 events per transaction, the batch route's maximum. `orderingKey(k)`
 * gives event k its `ordering_key` (fifo webhooks put it in that line).
 */
export async function seedEventsWithDeliveries(
  databaseUrl: string,
  count: number,
  targets: SeedTarget[],
  eventType: string,
  data: Record<string, unknown>,
  options: { orderingKey?: (k: number) => string | null } = {},
): Promise<SeededDelivery[]> {
  const db = createDb(databaseUrl, { poolSize: 2 });
  const out: SeededDelivery[] = [];
  const CHUNK = 1000;
  try {
    for (let from = 0; from < count; from += CHUNK) {
      const now = new Date();
      const events: Array<{
        id: string;
        teamId: number;
        projectId: number | null;
        type: string;
        timestamp: Date;
        data: object;
        createdAt: Date;
        orderingKey: string | null;
      }> = [];
      const deliveries: DeliveryToCreate[] = [];
      for (let k = from; k < Math.min(count, from + CHUNK); k++) {
        const target = targets[k % targets.length];
        if (!target) throw new Error('no seed targets');
        const eventId = newId('evt');
        const orderingKey = options.orderingKey?.(k) ?? null;
        events.push({ id: eventId, teamId: target.teamId, projectId: target.projectId, type: eventType, timestamp: now, data, createdAt: now, orderingKey });
        deliveries.push({ teamId: target.teamId, webhookId: target.webhookId, eventId, eventType });
      }
      // Prisma's default 5 s for an interactive transaction is too short for 1,000 events on a
      // loaded 2-core machine (it expired once at load 13).
      const created = await db.$transaction(
        async (tx) => {
          await tx.event.createMany({ data: events });
          return createDeliveries(tx, deliveries, { now });
        },
        { timeout: 60_000, maxWait: 60_000 },
      );
      for (const d of created) out.push({ deliveryId: d.id, eventId: d.eventId, webhookId: d.webhookId, waiting: d.nextAttemptAt === null });
    }
  } finally {
    await db.$disconnect();
  }
  return out;
}

export async function countRows(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

/** Recorded attempts by outcome (`status 200`, `timeout`, ...), to explain retries and duplicates. */
export async function attemptOutcomes(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ outcome: string; n: string }>(
    `SELECT coalesce(error, 'status ' || status_code::text, 'unknown') AS outcome, count(*) AS n FROM attempts GROUP BY 1 ORDER BY 2 DESC`,
  );
  return Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]));
}

export interface DatabaseActivity {
  /** Committed transactions; with autocommit, every statement outside BEGIN/COMMIT is one. */
  transactions: number;
  rolledBack: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsFetched: number;
}

/** This database's counters from pg_stat_database; the difference over a scenario shows work per delivery. */
export async function databaseActivity(pool: pg.Pool, name: string): Promise<DatabaseActivity> {
  // Statistics reach the view with a small delay; a fresh snapshot is forced for this transaction.
  await pool.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await pool.query<{ c: string; r: string; i: string; u: string; f: string }>(
    `SELECT xact_commit AS c, xact_rollback AS r, tup_inserted AS i, tup_updated AS u, tup_fetched AS f
       FROM pg_stat_database WHERE datname = $1`,
    [name],
  );
  const row = rows[0];
  return {
    transactions: Number(row?.c ?? 0),
    rolledBack: Number(row?.r ?? 0),
    rowsInserted: Number(row?.i ?? 0),
    rowsUpdated: Number(row?.u ?? 0),
    rowsFetched: Number(row?.f ?? 0),
  };
}

export function activityPer(before: DatabaseActivity, after: DatabaseActivity, per: number): DatabaseActivity {
  const d = (k: keyof DatabaseActivity) => Math.round(((after[k] - before[k]) / per) * 100) / 100;
  return {
    transactions: d('transactions'),
    rolledBack: d('rolledBack'),
    rowsInserted: d('rowsInserted'),
    rowsUpdated: d('rowsUpdated'),
    rowsFetched: d('rowsFetched'),
  };
}

import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ensureDayPartitions, listPartitions, runRetentionOn } from '@hooklane/db';
import pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startRetentionTask } from '../src/retention.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';

/**
 * Retention against a real PostgreSQL. Time is shifted by giving rows ids (the partition
 * key) made at old times, never by waiting: a day 40 days back is as old as it gets.
 */

const DAY = 86_400_000;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const now = new Date();
const daysAgo = (n: number) => new Date(Math.floor(now.getTime() / DAY) * DAY - n * DAY + 3_600_000);
const suffixOf = (at: Date) => `p${at.toISOString().slice(0, 10).replaceAll('-', '')}`;

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase('retention');
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  // The old days' partitions, as the workers would have made them back then.
  await ensureDayPartitions(client, daysAgo(45), 45, 1000);
  await client.query(
    `INSERT INTO webhooks (id, team_id, url, events, secret, updated_at) VALUES ('wh_R', 1, 'http://127.0.0.1:9/', '{*}', 's', now())`,
  );
});

afterAll(async () => {
  await client?.end();
  await database?.drop();
});

/** An id of this prefix made at `at` (the time part is what partitioning reads). */
async function idAt(prefix: string, at: Date): Promise<string> {
  const { rows } = await client.query<{ b: string }>('SELECT hooklane_id_bound($1, $2) AS b', [prefix, at]);
  return rows[0]!.b + [...randomBytes(16)].map((b) => CROCKFORD[b % 32]).join('');
}

async function insertEvent(at: Date): Promise<string> {
  const id = await idAt('evt', at);
  await client.query(
    `INSERT INTO events (id, team_id, type, "timestamp", data, created_at) VALUES ($1, 1, 'ping', $2, '{"a":1}', $2)`,
    [id, at],
  );
  return id;
}

async function insertDelivery(eventId: string, at: Date, status: string): Promise<string> {
  const id = await idAt('dlv', at);
  await client.query(
    `INSERT INTO deliveries (id, team_id, webhook_id, event_id, event_type, status, attempts, created_at, updated_at)
     VALUES ($1, 1, 'wh_R', $2, 'ping', $3::"DeliveryStatus", 1, $4, $4)`,
    [id, eventId, status, at],
  );
  await client.query(
    `INSERT INTO attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, response_body)
     VALUES ($1, $2, 1, $3, 5, 500, 'body of the answer')`,
    [await idAt('att', at), id, at],
  );
  return id;
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) x`, params);
  return rows[0]!.n;
}

const partitionNames = async () => new Set((await listPartitions(client)).map((p) => p.name));

function captureLogs(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('retention task', () => {
  it('drops old days whole, keeps a day with a pending delivery until it ends, counts and logs', async () => {
    const dropped = await insertEvent(daysAgo(40));
    const droppedDeliveries = [await insertDelivery(dropped, daysAgo(40), 'succeeded'), await insertDelivery(dropped, daysAgo(40), 'failed')];
    const pendingEvent = await insertEvent(daysAgo(39));
    const pendingDelivery = await insertDelivery(pendingEvent, daysAgo(39), 'pending');
    await insertDelivery(pendingEvent, daysAgo(39), 'succeeded');
    // A day whose event was redelivered today and is still on its way: kept too.
    const redelivered = await insertEvent(daysAgo(38));
    await insertDelivery(redelivered, daysAgo(38), 'failed');
    const redelivery = await insertDelivery(redelivered, daysAgo(0), 'pending');
    // A day whose event was redelivered today and has finished: dropped, with that redelivery.
    const finished = await insertEvent(daysAgo(37));
    await insertDelivery(finished, daysAgo(37), 'failed');
    const finishedRedelivery = await insertDelivery(finished, daysAgo(0), 'succeeded');
    const recent = await insertEvent(daysAgo(3));
    await insertDelivery(recent, daysAgo(3), 'succeeded');

    const registry = new Registry();
    const { logger, lines } = captureLogs();
    const task = startRetentionTask({ databaseUrl: database.url, retentionDays: 30, intervalMs: 3_600_000, logger, registry, clock: () => now, firstRunInMs: 3_600_000 });
    try {
      const run = await task.runOnce();
      expect(run?.ran).toBe(true);
      const names = await partitionNames();
      for (const t of ['events', 'deliveries', 'attempts']) {
        expect(names.has(`${t}_${suffixOf(daysAgo(40))}`)).toBe(false);
        expect(names.has(`${t}_${suffixOf(daysAgo(37))}`)).toBe(false);
        expect(names.has(`${t}_${suffixOf(daysAgo(39))}`)).toBe(true);
        expect(names.has(`${t}_${suffixOf(daysAgo(38))}`)).toBe(true);
        expect(names.has(`${t}_${suffixOf(daysAgo(3))}`)).toBe(true);
        expect(names.has(`${t}_${suffixOf(new Date(now.getTime() + 7 * DAY))}`)).toBe(true);
      }
      expect(await count(`SELECT 1 FROM events WHERE id = ANY($1)`, [[dropped, finished]])).toBe(0);
      expect(await count(`SELECT 1 FROM deliveries WHERE id = ANY($1) OR event_id = ANY($2)`, [[...droppedDeliveries, finishedRedelivery], [dropped, finished]])).toBe(0);
      expect(await count(`SELECT 1 FROM attempts WHERE delivery_id = ANY($1)`, [[...droppedDeliveries, finishedRedelivery]])).toBe(0);
      // Kept whole: the pending delivery, its event, its sibling, their attempt logs.
      expect(await count(`SELECT 1 FROM events WHERE id = ANY($1)`, [[pendingEvent, redelivered, recent]])).toBe(3);
      expect(await count(`SELECT 1 FROM deliveries WHERE event_id = $1`, [pendingEvent])).toBe(2);
      expect(await count(`SELECT 1 FROM attempts WHERE delivery_id = $1`, [pendingDelivery])).toBe(1);
      expect(await count(`SELECT 1 FROM deliveries WHERE id = $1 AND status = 'pending'`, [redelivery])).toBe(1);

      const metrics = await registry.getMetricsAsJSON();
      const value = (name: string) => metrics.find((m) => m.name === name)?.values ?? [];
      // Days 45..31 back (the cutoff is the start of the day 30 days back) minus the two kept: 13 days of three partitions.
      expect(value('webhook_retention_partitions_dropped_total')[0]?.value).toBe(13 * 3);
      expect(value('webhook_retention_rows_dropped_total').find((v) => v.labels.table === 'events')?.value).toBe(2);
      expect(value('webhook_retention_rows_dropped_total').find((v) => v.labels.table === 'deliveries')?.value).toBe(3);
      expect(value('webhook_retention_last_run_timestamp_seconds')[0]?.value).toBeGreaterThan(0);
      expect(value('webhook_retention_days_kept_pending')[0]?.value).toBe(2);
      const dropLines = lines.filter((l) => l.msg === 'retention: partition dropped');
      expect(dropLines.map((l) => l.partition)).toContain(suffixOf(daysAgo(40)));
      expect(dropLines.find((l) => l.partition === suffixOf(daysAgo(40)))).toMatchObject({ rows: { events: 1, deliveries: 2, attempts: 2 } });
      expect(lines.filter((l) => l.msg === 'retention: partition kept, deliveries still pending').map((l) => [l.partition, l.pending])).toEqual([
        [suffixOf(daysAgo(39)), 1],
        [suffixOf(daysAgo(38)), 1],
      ]);

      // Once nothing is pending any more, the next run takes the kept days too.
      await client.query(`UPDATE deliveries SET status = 'succeeded' WHERE id = ANY($1)`, [[pendingDelivery, redelivery]]);
      await task.runOnce();
      const after = await partitionNames();
      expect(after.has(`events_${suffixOf(daysAgo(39))}`)).toBe(false);
      expect(after.has(`events_${suffixOf(daysAgo(38))}`)).toBe(false);
      expect(await count(`SELECT 1 FROM deliveries WHERE id = $1`, [redelivery])).toBe(0);
      expect(await count(`SELECT 1 FROM events WHERE id = $1`, [recent])).toBe(1);
    } finally {
      await task.close();
    }
  });

  it('RETENTION_DAYS=0 keeps everything; one run at a time across workers', async () => {
    await ensureDayPartitions(client, daysAgo(44), 0, 1000); // dropped (empty) by the test before
    const old = await insertEvent(daysAgo(44));
    await insertDelivery(old, daysAgo(44), 'succeeded');
    const keepAll = await runRetentionOn(database.url, { now, retentionDays: 0, daysAhead: 7, lockTimeoutMs: 250 });
    expect(keepAll.ran).toBe(true);
    expect(keepAll.days).toEqual([]);
    expect(await count(`SELECT 1 FROM events WHERE id = $1`, [old])).toBe(1);

    // Another session holds the lock: this run does nothing.
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [0x686c7274]);
      const skipped = await runRetentionOn(database.url, { now, retentionDays: 30, daysAhead: 7, lockTimeoutMs: 250 });
      expect(skipped.ran).toBe(false);
      expect(await count(`SELECT 1 FROM events WHERE id = $1`, [old])).toBe(1);
    } finally {
      await other.end();
    }
    const ran = await runRetentionOn(database.url, { now, retentionDays: 30, daysAhead: 7, lockTimeoutMs: 250 });
    expect(ran.days.map((d) => d.outcome)).toContain('dropped');
    expect(await count(`SELECT 1 FROM events WHERE id = $1`, [old])).toBe(0);
  });

  it('drops a 1,000,000-row partition in well under a second of statement time', async () => {
    const day = daysAgo(50);
    await ensureDayPartitions(client, day, 0, 1000);
    const base = (await idAt('evt', day)).slice(0, 14);
    const started = Date.now();
    await client.query(
      `INSERT INTO "events_${suffixOf(day)}" (id, team_id, type, "timestamp", data, created_at)
       SELECT $1 || lpad(n::text, 16, '0'), 1, 'ping', $2, '{"n":1}', $2 FROM generate_series(1, 1000000) AS n`,
      [base, day],
    );
    const filledMs = Date.now() - started;
    expect(await count(`SELECT 1 FROM "events_${suffixOf(day)}"`)).toBe(1_000_000);
    const run = await runRetentionOn(database.url, { now, retentionDays: 30, daysAhead: 7, lockTimeoutMs: 1000 });
    const big = run.days.find((d) => d.suffix === suffixOf(day));
    console.log(`retention: 1,000,000-row events partition dropped, DROP TABLE took ${big?.dropMs.toFixed(1)} ms (filling it took ${filledMs} ms)`);
    expect(big).toMatchObject({ outcome: 'dropped', rows: { events: 1_000_000 } });
    expect(big!.dropMs).toBeLessThan(1000);
    expect(await count(`SELECT 1 FROM events WHERE id LIKE $1`, [`${base}%`])).toBe(0);
  }, 180_000);
});

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { listPartitions, runRetentionOn } from '@hooklane/db';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';

/**
 * Retention of the rows in the `_default` partitions (ids no day partition covers: a day
 * whose partitions were never made, a malformed id, a clock far ahead). No day drop reaches
 * them; packages/db/src/retention-default.ts deletes the old ones in batches. Time is
 * shifted by ids and created_at values of old times, never by waiting.
 */

const DAY = 86_400_000;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const now = new Date();
const daysAgo = (n: number) => new Date(Math.floor(now.getTime() / DAY) * DAY - n * DAY + 3_600_000);

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase('retdefault');
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query(
    `INSERT INTO webhooks (id, team_id, url, events, secret, updated_at) VALUES ('wh_D', 1, 'http://127.0.0.1:9/', '{*}', 's', now())`,
  );
});

afterAll(async () => {
  await client?.end();
  await database?.drop();
});

const random = (n: number) => [...randomBytes(n)].map((b) => CROCKFORD[b % 32]).join('');

async function idAt(prefix: string, at: Date): Promise<string> {
  const { rows } = await client.query<{ b: string }>('SELECT hooklane_id_bound($1, $2) AS b', [prefix, at]);
  return rows[0]!.b + random(16);
}

async function insertEvent(id: string, at: Date): Promise<string> {
  await client.query(`INSERT INTO events (id, team_id, type, "timestamp", data, created_at) VALUES ($1, 1, 'ping', $2, '{"a":1}', $2)`, [id, at]);
  return id;
}

async function insertDelivery(id: string, eventId: string, at: Date, status: string): Promise<string> {
  await client.query(
    `INSERT INTO deliveries (id, team_id, webhook_id, event_id, event_type, status, attempts, created_at, updated_at)
     VALUES ($1, 1, 'wh_D', $2, 'ping', $3::"DeliveryStatus", 1, $4, $4)`,
    [id, eventId, status, at],
  );
  await insertAttempt(id, at);
  return id;
}

async function insertAttempt(deliveryId: string, at: Date): Promise<void> {
  await client.query(
    `INSERT INTO attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, response_body)
     VALUES ($1, $2, 1, $3, 5, 500, 'body of the answer')`,
    [`att_${random(26)}`, deliveryId, at],
  );
}

async function ids(table: string): Promise<Set<string>> {
  const key = table === 'attempts' ? 'delivery_id' : 'id';
  const { rows } = await client.query<{ id: string }>(`SELECT ${key} AS id FROM "${table}_default"`);
  return new Set(rows.map((r) => r.id));
}

describe('retention of the default partitions', () => {
  it('deletes old rows there in batches, keeps pending ones and their event, keeps recent ones', async () => {
    const old = daysAgo(200); // no day partition this far back: these land in the default partitions
    const finished = await insertEvent(await idAt('evt', old), old);
    const finishedDlv = await insertDelivery(await idAt('dlv', old), finished, old, 'succeeded');
    const malformed = await insertEvent('evt_not-a-time-at-all', old);
    const malformedDlv = await insertDelivery('dlv_not-a-time-either', malformed, old, 'failed');
    const pending = await insertEvent(await idAt('evt', old), old);
    const pendingDlv = await insertDelivery(await idAt('dlv', old), pending, old, 'pending');
    const pendingSibling = await insertDelivery(await idAt('dlv', old), pending, old, 'succeeded');
    // A clock far ahead: an id past every day partition, made (created_at) just now.
    const future = new Date(now.getTime() + 400 * DAY);
    const recent = await insertEvent(await idAt('evt', future), now);
    const recentDlv = await insertDelivery(await idAt('dlv', future), recent, now, 'succeeded');
    // Left behind by a day dropped or an event erased: a finished delivery and an attempt without their parent.
    const orphanDlv = await insertDelivery(await idAt('dlv', old), await idAt('evt', daysAgo(40)), old, 'succeeded');
    const orphanPending = await insertDelivery(await idAt('dlv', old), await idAt('evt', daysAgo(40)), old, 'pending');
    const orphanAttemptOf = await idAt('dlv', old);
    await insertAttempt(orphanAttemptOf, old);
    // Enough old finished events for several batches (1,000 a batch).
    const bulk = (await idAt('evt', old)).slice(0, 14);
    await client.query(
      `INSERT INTO events (id, team_id, type, "timestamp", data, created_at)
       SELECT $1 || lpad(n::text, 12, '0'), 1, 'ping', $2, '{}', $2 FROM generate_series(1, 2500) AS n`,
      [bulk, old],
    );
    expect(new Set((await listPartitions(client)).map((p) => p.suffix)).has('default')).toBe(true);
    expect((await ids('events')).size).toBe(2500 + 4);

    // A task closing (its signal aborted) stops the sweep before its next batch.
    const aborted = await runRetentionOn(database.url, { now, retentionDays: 30, daysAhead: 7, lockTimeoutMs: 1000, signal: AbortSignal.abort() });
    expect(aborted.defaultRows).toEqual({ events: 0, deliveries: 0, attempts: 0 });

    const run = await runRetentionOn(database.url, { now, retentionDays: 30, daysAhead: 7, lockTimeoutMs: 1000 });
    expect(run.defaultRows).toEqual({ events: 2500 + 2, deliveries: 3, attempts: 4 });

    expect([...(await ids('events'))].sort()).toEqual([pending, recent].sort());
    expect([...(await ids('deliveries'))].sort()).toEqual([pendingDlv, pendingSibling, recentDlv, orphanPending].sort());
    expect([...(await ids('attempts'))].sort()).toEqual([pendingDlv, pendingSibling, recentDlv, orphanPending].sort());
    for (const gone of [finished, malformed]) expect((await ids('events')).has(gone)).toBe(false);
    for (const gone of [finishedDlv, malformedDlv, orphanDlv, orphanAttemptOf]) expect((await ids('attempts')).has(gone)).toBe(false);

    // Once the pending delivery has ended, the next run takes its event, siblings and attempts.
    await client.query(`UPDATE deliveries SET status = 'failed' WHERE id = ANY($1)`, [[pendingDlv, orphanPending]]);
    const next = await runRetentionOn(database.url, { now, retentionDays: 30, daysAhead: 7, lockTimeoutMs: 1000 });
    expect(next.defaultRows).toEqual({ events: 1, deliveries: 3, attempts: 3 });
    expect([...(await ids('events'))]).toEqual([recent]);
    expect([...(await ids('deliveries'))]).toEqual([recentDlv]);

    // RETENTION_DAYS=0 keeps everything, the default partitions too.
    await insertEvent(await idAt('evt', old), old);
    const keepAll = await runRetentionOn(database.url, { now, retentionDays: 0, daysAhead: 7, lockTimeoutMs: 1000 });
    expect(keepAll.defaultRows).toEqual({ events: 0, deliveries: 0, attempts: 0 });
    expect((await ids('events')).size).toBe(2);
  });
});

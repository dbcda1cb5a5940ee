import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createDb, ensureDayPartitions, insertEventsWithFanOut, loadDeliveriesForAttempt, createAttemptRecorder, type Db } from '../src/index.js';
import { newId } from '@hooklane/core';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';

/**
 * The partitioned tables from the hot path's side: rows land in today's partitions, the
 * statements by id touch one partition (pruning), and the idempotency claim still holds
 * across partitions.
 */

let database: TestDatabase;
let client: pg.Client;
let db: Db;
const today = new Date();
const suffix = `p${today.toISOString().slice(0, 10).replaceAll('-', '')}`;

beforeAll(async () => {
  database = await createTestDatabase('partitioning');
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  // The template may have been built on another day; the workers would have made today's.
  await ensureDayPartitions(client, today, 1, 1000);
  await client.query(`INSERT INTO webhooks (id, team_id, url, events, secret, updated_at) VALUES ($1, 5, 'http://x.test/', '{*}', 's', now())`, [newId('wh')]);
  db = createDb(database.url);
});

afterAll(async () => {
  await db?.$disconnect();
  await client?.end();
  await database?.drop();
});

function ingest(key: string | null) {
  return insertEventsWithFanOut(db, {
    now: new Date(),
    idempotencyTtlMs: 86_400_000,
    events: [{ id: newId('evt'), teamId: 5, projectId: null, type: 'ping', timestamp: new Date(), data: {}, sender: null, idempotencyKey: key }],
  });
}

describe('partitioned tables', () => {
  it("put an ingested event, its delivery and the attempt in today's partitions", async () => {
    const [stored] = await ingest(null);
    const deliveryId = stored!.deliveries[0]!.id;
    const [loaded] = await loadDeliveriesForAttempt(db, [deliveryId]);
    expect(loaded?.event.id).toBe(stored!.eventId);
    const recorded = await createAttemptRecorder(db).record({
      attemptId: newId('att'), deliveryId, webhookId: loaded!.webhook.id, attempt: 1, startedAt: new Date(), durationMs: 3,
      statusCode: 200, responseBody: 'ok', error: null, status: 'succeeded', nextAttemptAt: null, countsTowardHealth: true,
    });
    expect(recorded.recorded).toBe(true);
    const where = async (table: string, column: string, id: string) =>
      (await client.query(`SELECT tableoid::regclass::text AS p FROM ${table} WHERE ${column} = $1`, [id])).rows[0]?.p;
    expect(await where('events', 'id', stored!.eventId)).toBe(`events_${suffix}`);
    expect(await where('deliveries', 'id', deliveryId)).toBe(`deliveries_${suffix}`);
    expect(await where('attempts', 'delivery_id', deliveryId)).toBe(`attempts_${suffix}`);
  });

  it('look a delivery up by id in one partition, through its index', async () => {
    const [stored] = await ingest(null);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = ANY($1::text[])`,
      [[stored!.deliveries[0]!.id]],
    );
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    const deliveryPartitions = new Set(plan.match(/on deliveries_\w+/g));
    expect([...deliveryPartitions]).toEqual([`on deliveries_${suffix}`]);
    expect(plan).toMatch(/Index (Only )?Scan using deliveries_\w+_pkey/);
  });

  it('hold an idempotency key across partitions until it expires', async () => {
    const [first] = await ingest('same-key');
    expect(first).toBeDefined();
    expect(await ingest('same-key')).toEqual([]);
    await client.query(`UPDATE events SET idempotency_expires_at = now() - interval '1 second' WHERE id = $1`, [first!.eventId]);
    const [again] = await ingest('same-key');
    expect(again?.eventId).not.toBe(first!.eventId);
  });
});

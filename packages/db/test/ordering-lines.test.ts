import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newId } from '@hooklane/core';
import {
  applyOrderingChange,
  cancelInLine,
  createAttemptRecorder,
  createDb,
  createDeliveries,
  eraseEvent,
  insertEventsWithFanOut,
  parkIfBlocked,
  type AttemptRecorder,
  type Db,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';

/**
 * Ordered lines in PostgreSQL (ordering-lines.ts), against a real database: sequence numbers,
 * one due head per line, wakes when a head ends, and the race between a new delivery and an
 * ending head that the line-row lock settles.
 */

const TEAM = 14;
let database: TestDatabase;
let db: Db;
let recorder: AttemptRecorder;

beforeAll(async () => {
  database = await createTestDatabase('dblines');
  db = createDb(database.url);
  recorder = createAttemptRecorder(db);
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

async function fifoWebhook(ordering: 'fifo' | 'none' = 'fifo'): Promise<string> {
  const id = newId('wh');
  await db.webhook.create({
    data: { id, teamId: TEAM, url: 'http://127.0.0.1:9/hook', secret: 'whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdA==', events: ['*'], ordering },
  });
  return id;
}

async function emit(keys: Array<string | null>) {
  const events = keys.map((orderingKey) => ({
    id: newId('evt'),
    teamId: TEAM,
    projectId: null,
    type: 'order.created',
    timestamp: new Date(),
    data: {},
    sender: null,
    idempotencyKey: null,
    orderingKey,
  }));
  return insertEventsWithFanOut(db, { now: new Date(), idempotencyTtlMs: 60_000, events });
}

interface LineRow {
  id: string;
  line: string;
  sequence: number;
  due: boolean;
  status: string;
}

async function lineRows(webhookId: string): Promise<LineRow[]> {
  return db.$queryRaw<LineRow[]>`
    SELECT d.id, le.line, le.sequence, d.next_attempt_at IS NOT NULL AS due, d.status::text AS status
      FROM line_entries le JOIN deliveries d ON d.id = le.delivery_id
     WHERE le.webhook_id = ${webhookId}
     ORDER BY le.line, le.sequence`;
}

async function succeed(deliveryId: string, webhookId: string, attempt = 1) {
  return recorder.record({
    attemptId: newId('att'),
    deliveryId,
    webhookId,
    attempt,
    startedAt: new Date(),
    durationMs: 1,
    statusCode: 200,
    responseBody: 'ok',
    error: null,
    status: 'succeeded',
    nextAttemptAt: null,
    countsTowardHealth: true,
    inLine: true,
  });
}

describe('fifo lines', () => {
  it('number deliveries per line in acceptance order and make only each line head due', async () => {
    const hook = await fifoWebhook();
    const stored = await emit(['a', 'b', 'a', null, 'a', null, 'b']);
    const waiting = stored.map((e) => e.deliveries[0]!.waiting === true);
    expect(waiting).toEqual([false, false, true, false, true, true, true]);
    const rows = await lineRows(hook);
    expect(rows.map((r) => [r.line, r.sequence, r.due])).toEqual([
      ['', 1, true], ['', 2, false],
      ['a', 1, true], ['a', 2, false], ['a', 3, false],
      ['b', 1, true], ['b', 2, false],
    ]);
    // A webhook without ordering: no lines, everything due.
    const plain = await fifoWebhook('none');
    const more = await emit(['a', 'a']);
    expect(more.map((e) => e.deliveries.find((d) => d.webhookId === plain)!.waiting ?? false)).toEqual([false, false]);
    expect(await lineRows(plain)).toEqual([]);
  });

  it('wake the next of a line when its head ends, not while it retries', async () => {
    const hook = await fifoWebhook();
    const stored = await emit(['k', 'k', 'k']);
    const [first, second, third] = stored.map((e) => e.deliveries.find((d) => d.webhookId === hook)!.id);
    const retry = await recorder.record({
      attemptId: newId('att'), deliveryId: first!, webhookId: hook, attempt: 1, startedAt: new Date(), durationMs: 1,
      statusCode: 500, responseBody: null, error: null, status: 'pending', nextAttemptAt: new Date(Date.now() + 1000),
      countsTowardHealth: true, inLine: true,
    });
    expect(retry).toEqual({ recorded: true, woken: [] });
    expect((await lineRows(hook)).map((r) => r.due)).toEqual([true, false, false]);
    const ended = await succeed(first!, hook, 2);
    expect(ended).toEqual({ recorded: true, woken: [{ id: second, webhookId: hook, attempt: 1 }] });
    expect((await lineRows(hook)).map((r) => [r.id, r.due])).toEqual([[second, true], [third, false]]);
  });

  it('never lose a wake nor make two heads due when new deliveries race the head ending', async () => {
    const hook = await fifoWebhook();
    const PRODUCERS = 6;
    const EACH = 25;
    let producing = PRODUCERS;
    const delivered: number[] = [];
    let maxDue = 0;
    const produce = async () => {
      for (let i = 0; i < EACH; i++) await emit(['race']);
      producing--;
    };
    const consume = async () => {
      for (;;) {
        const rows = await lineRows(hook);
        const due = rows.filter((r) => r.due && r.status === 'pending');
        maxDue = Math.max(maxDue, due.length);
        if (due.length === 0) {
          if (producing === 0 && rows.length === 0) return;
          await new Promise((resolve) => setTimeout(resolve, 2));
          continue;
        }
        await succeed(due[0]!.id, hook);
        delivered.push(due[0]!.sequence);
      }
    };
    await Promise.all([...Array.from({ length: PRODUCERS }, produce), consume()]);
    expect(maxDue).toBe(1);
    expect(delivered).toEqual(Array.from({ length: PRODUCERS * EACH }, (_, i) => i + 1));
  }, 60_000);

  it('append a redelivery at the end of the line with the next number', async () => {
    const hook = await fifoWebhook();
    const stored = await emit(['r', 'r']);
    const [first] = stored.map((e) => e.deliveries.find((d) => d.webhookId === hook)!.id);
    const [again] = await createDeliveries(db, [{ teamId: TEAM, webhookId: hook, eventId: stored[0]!.eventId, eventType: 'order.created' }], { now: new Date() });
    expect(again!.nextAttemptAt).toBeNull();
    expect((await lineRows(hook)).map((r) => [r.id, r.sequence])).toEqual([[first, 1], [stored[1]!.deliveries.find((d) => d.webhookId === hook)!.id, 2], [again!.id, 3]]);
  });

  it('let the line go on past a cancelled or erased delivery, leaving its number unused', async () => {
    const hook = await fifoWebhook();
    const stored = await emit(['e', 'e', 'e']);
    const ids = stored.map((e) => e.deliveries.find((d) => d.webhookId === hook)!.id);
    const cancelled = await cancelInLine(db, ids[0]!);
    expect(cancelled).toEqual({ cancelled: true, woken: [{ id: ids[1], webhookId: hook, attempt: 1 }] });
    const erased = await eraseEvent(db, stored[1]!.eventId, null);
    expect(erased!.woken).toEqual([{ id: ids[2], webhookId: hook, attempt: 1 }]);
    expect((await lineRows(hook)).map((r) => [r.id, r.sequence, r.due])).toEqual([[ids[2], 3, true]]);
    const next = await emit(['e']);
    expect((await lineRows(hook)).map((r) => r.sequence)).toEqual([3, 4]);
    expect(next[0]!.deliveries.find((d) => d.webhookId === hook)!.waiting).toBe(true);
  });

  it('park a delivery found behind an earlier one, and let the head through', async () => {
    const hook = await fifoWebhook();
    const stored = await emit(['p', 'p']);
    const [head, behind] = stored.map((e) => e.deliveries.find((d) => d.webhookId === hook)!.id);
    await db.delivery.update({ where: { id: behind! }, data: { nextAttemptAt: new Date() } });
    expect(await parkIfBlocked(db, behind!)).toBe(true);
    expect(await parkIfBlocked(db, head!)).toBe(false);
    expect((await lineRows(hook)).map((r) => r.due)).toEqual([true, false]);
  });

  it('release every waiting delivery when ordering is turned off, and line up pending ones when turned on', async () => {
    const hook = await fifoWebhook();
    await emit(['o', 'o', 'o']);
    await db.webhook.update({ where: { id: hook }, data: { ordering: 'none' } });
    const released = await db.$transaction((tx) => applyOrderingChange(tx, hook, 'none'));
    expect(released).toHaveLength(2);
    expect(await lineRows(hook)).toEqual([]);
    const due = await db.delivery.count({ where: { webhookId: hook, status: 'pending', nextAttemptAt: { not: null } } });
    expect(due).toBe(3);

    await db.webhook.update({ where: { id: hook }, data: { ordering: 'fifo' } });
    expect(await db.$transaction((tx) => applyOrderingChange(tx, hook, 'fifo'))).toEqual([]);
    // Numbers go on from where the line stopped: 4, 5, 6.
    expect((await lineRows(hook)).map((r) => [r.sequence, r.due])).toEqual([[4, true], [5, false], [6, false]]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newId, newIdBlock } from '@hooklane/core';
import {
  createDb,
  insertEventsWithFanOut,
  createDeliveryLoader,
  createAttemptRecorder,
  recordAttempts,
  type Db,
  type RecordAttemptInput,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';

const TEAM = 3;
let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase('dbbatch');
  db = createDb(database.url);
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

async function webhook(overrides: { events?: string[]; projectId?: number | null } = {}): Promise<string> {
  const id = newId('wh');
  await db.webhook.create({
    data: {
      id,
      teamId: TEAM,
      url: 'http://127.0.0.1:9/hook',
      secret: 'whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdA==',
      events: overrides.events ?? ['*'],
      projectId: overrides.projectId ?? null,
    },
  });
  return id;
}

async function emit(count: number, type = 'order.created', projectId: number | null = null) {
  const events = Array.from({ length: count }, () => ({
    id: newId('evt'),
    teamId: TEAM,
    projectId,
    type,
    timestamp: new Date(),
    data: { n: 1 },
    sender: null,
    idempotencyKey: null,
  }));
  const stored = await insertEventsWithFanOut(db, { now: new Date(), idempotencyTtlMs: 60_000, events });
  return stored.map((e) => ({ eventId: e.eventId, deliveryIds: e.deliveries.map((d) => d.id) }));
}

function attemptInput(
  deliveryId: string,
  webhookId: string,
  attempt: number,
  status: RecordAttemptInput['status'],
  startedAt = new Date(),
): RecordAttemptInput {
  return {
    attemptId: newId('att'),
    deliveryId,
    webhookId,
    attempt,
    startedAt,
    durationMs: 5,
    statusCode: status === 'succeeded' ? 200 : 500,
    responseBody: 'ok',
    error: null,
    status,
    nextAttemptAt: status === 'pending' ? new Date(Date.now() + 60_000) : null,
    countsTowardHealth: true,
  };
}

describe('one-statement fan-out', () => {
  it('creates one delivery per subscribed webhook with valid ids, skipping other projects and types', async () => {
    const all = await webhook();
    const project = await webhook({ projectId: 5 });
    await webhook({ events: ['user.deleted'] });
    const stored = await emit(3, 'order.created', 5);
    expect(stored).toHaveLength(3);
    for (const event of stored) {
      expect(event.deliveryIds).toHaveLength(2);
      for (const id of event.deliveryIds) expect(id).toMatch(/^dlv_[0-9A-HJKMNP-TV-Z]{26}$/);
      const rows = await db.delivery.findMany({ where: { eventId: event.eventId }, orderBy: { id: 'asc' } });
      expect(rows.map((r) => r.webhookId).sort()).toEqual([all, project].sort());
    }
    const ids = stored.flatMap((e) => e.deliveryIds);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('coalesced hot path', () => {
  // One of each per process, as the worker's main.ts builds them.
  const loader = { load: (id: string) => loaderOnce().load(id) };
  const recorder = { record: (i: Parameters<ReturnType<typeof createAttemptRecorder>['record']>[0]) => recorderOnce().record(i) };
  let madeLoader: ReturnType<typeof createDeliveryLoader> | undefined;
  let madeRecorder: ReturnType<typeof createAttemptRecorder> | undefined;
  const loaderOnce = () => (madeLoader ??= createDeliveryLoader(db));
  const recorderOnce = () => (madeRecorder ??= createAttemptRecorder(db));
  it('gives each concurrent caller its own delivery, and null for an unknown id', async () => {
    const stored = await emit(30);
    const ids = stored.map((e) => e.deliveryIds[0] as string);
    const loaded = await Promise.all([...ids, 'dlv_unknown'].map((id) => loader.load(id)));
    expect(loaded.slice(0, -1).map((r) => r?.delivery.id)).toEqual(ids);
    expect(loaded.slice(0, -1).map((r) => r?.event.id)).toEqual(stored.map((e) => e.eventId));
    expect(loaded.at(-1)).toBeNull();
  });

  it('records each concurrent attempt once and tells each caller whether it won', async () => {
    const stored = await emit(20);
    const deliveries = await Promise.all(stored.map((e) => loader.load(e.deliveryIds[0] as string)));
    const inputs = deliveries.map((d) => attemptInput(d!.delivery.id, d!.webhook.id, 1, 'succeeded'));
    // Each attempt twice, as two workers racing on a stalled job would.
    const twins = inputs.map((i) => ({ ...i, attemptId: newId('att') }));
    const results = await Promise.all([...inputs, ...twins].map(async (i) => (await recorder.record(i)).recorded));
    expect(results.slice(0, 20)).toEqual(Array(20).fill(true));
    expect(results.slice(20)).toEqual(Array(20).fill(false));
    for (const input of inputs) {
      expect(await db.attempt.count({ where: { deliveryId: input.deliveryId } })).toBe(1);
      const row = await db.delivery.findUniqueOrThrow({ where: { id: input.deliveryId } });
      expect([row.status, row.attempts]).toEqual(['succeeded', 1]);
    }
  });

  it('applies two attempts on one delivery in order, and leaves a cancelled delivery alone', async () => {
    const [first, second] = await emit(2);
    const a = (await loader.load(first!.deliveryIds[0] as string))!;
    const b = (await loader.load(second!.deliveryIds[0] as string))!;
    await db.delivery.update({ where: { id: b.delivery.id }, data: { status: 'cancelled' } });
    const won = await recordAttempts(db, [
      attemptInput(a.delivery.id, a.webhook.id, 1, 'pending'),
      attemptInput(a.delivery.id, a.webhook.id, 2, 'succeeded'),
      attemptInput(a.delivery.id, a.webhook.id, 2, 'failed'),
      attemptInput(b.delivery.id, b.webhook.id, 1, 'succeeded'),
    ]);
    expect(won).toEqual([true, true, false, false]);
    const row = await db.delivery.findUniqueOrThrow({ where: { id: a.delivery.id } });
    expect([row.status, row.attempts]).toEqual(['succeeded', 2]);
    expect(await db.attempt.count({ where: { deliveryId: b.delivery.id } })).toBe(0);
  });

  it('leaves the webhook as the attempts one by one would: last status, and the failure streak', async () => {
    const hook = await webhook({ events: ['streak.test'] });
    await emit(4, 'streak.test');
    const ids = (await db.delivery.findMany({ where: { webhookId: hook }, orderBy: { id: 'asc' } })).map((d) => d.id);
    expect(ids).toHaveLength(4);
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    // fail, succeed, fail, fail: the streak starts at the third attempt's start.
    await recordAttempts(db, [
      attemptInput(ids[0]!, hook, 1, 'pending', t(1)),
      attemptInput(ids[1]!, hook, 1, 'succeeded', t(2)),
      attemptInput(ids[2]!, hook, 1, 'pending', t(3)),
      attemptInput(ids[3]!, hook, 1, 'failed', t(4)),
    ]);
    let row = await db.webhook.findUniqueOrThrow({ where: { id: hook } });
    expect(row.failingSince).toEqual(t(3));
    expect(row.lastStatus).toBe(500);
    // A later failure keeps the streak's start; a success ends it.
    await recordAttempts(db, [attemptInput(ids[0]!, hook, 2, 'pending', t(9))]);
    row = await db.webhook.findUniqueOrThrow({ where: { id: hook } });
    expect(row.failingSince).toEqual(t(3));
    await recordAttempts(db, [attemptInput(ids[0]!, hook, 3, 'succeeded', t(10))]);
    row = await db.webhook.findUniqueOrThrow({ where: { id: hook } });
    expect(row.failingSince).toBeNull();
    expect(row.lastStatus).toBe(200);
  });
});

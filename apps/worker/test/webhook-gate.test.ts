import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createRedisConnection } from '@hooklane/queue';
import type { Redis } from 'ioredis';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../../../test/support/redis.js';
import { createWebhookGate, type GateRequest, type GateSlot, type WebhookGate } from '../src/webhook-gate.js';
import { sleep } from './fixtures.js';

// The gate's Lua against a real Redis: the rules every worker shares.

let redis: Redis;
let prefix: string;
let gate: WebhookGate;
const woken: string[][] = [];
const slots: GateSlot[] = [];
let n = 0;

beforeAll(() => {
  redis = createRedisConnection(TEST_REDIS_URL, 'worker');
  prefix = randomQueuePrefix('wgate');
  gate = createWebhookGate({
    redis,
    prefix,
    slotTtlMs: 30_000,
    lineGraceMs: 500,
    wake: (_webhookId, jobIds) => void woken.push(jobIds),
  });
});

afterAll(async () => {
  await Promise.all(slots.map((s) => s.release()));
  await deletePrefix(prefix);
  redis.disconnect();
});

function request(webhookId: string, overrides: Partial<GateRequest> = {}): GateRequest {
  return { webhookId, maxInFlight: 2, rateLimit: null, jobId: `job-${++n}`, attemptBoundMs: 5_000, ...overrides };
}

async function admitted(req: GateRequest): Promise<GateSlot> {
  const answer = await gate.acquire(req);
  if (!answer.admitted) throw new Error(`${req.jobId} not admitted: wait ${answer.waitMs} ms`);
  slots.push(answer.slot);
  return answer.slot;
}

async function refused(req: GateRequest): Promise<number> {
  const answer = await gate.acquire(req);
  if (answer.admitted) {
    slots.push(answer.slot);
    throw new Error(`${req.jobId} admitted`);
  }
  return answer.waitMs;
}

describe('webhook gate: in-flight cap', () => {
  it('admits maxInFlight attempts, makes the next wait, and wakes the first waiter when a slot frees', async () => {
    const first = await admitted(request('wh_cap'));
    await admitted(request('wh_cap'));
    const waiter = request('wh_cap');
    // A waiter behind the cap sleeps at most one attempt bound per round ahead of it.
    expect(await refused(waiter)).toBe(5_000);
    const later = request('wh_cap');
    expect(await refused(later)).toBe(5_000);
    woken.length = 0;

    await first.release();
    expect(woken).toEqual([[waiter.jobId]]);
    // The slot is the first waiter's: the one behind it does not overtake it.
    await refused(later);
    await admitted(waiter);
    await refused(later);
  });

  it('does not let other webhooks take a webhook’s slots', async () => {
    await admitted(request('wh_a', { maxInFlight: 1 }));
    await refused(request('wh_a', { maxInFlight: 1 }));
    await admitted(request('wh_b', { maxInFlight: 1 }));
  });

  it('lets a slot whose holder stopped renewing it (a crashed worker) lapse', async () => {
    const now = Date.now();
    // What a killed worker leaves behind: slots nobody renews or releases.
    await redis.zadd(`${prefix}:inflight:wh_dead`, now + 400, 'dead-1', now + 400, 'dead-2');
    await refused(request('wh_dead', { jobId: null }));
    await sleep(600);
    await admitted(request('wh_dead', { jobId: null }));
  });

  it('gives a waiter that never came back its place only until the line grace passes', async () => {
    await admitted(request('wh_ghost', { maxInFlight: 1, attemptBoundMs: 100 }));
    const ghost = request('wh_ghost', { maxInFlight: 1, attemptBoundMs: 100 });
    await refused(ghost);
    const live = request('wh_ghost', { maxInFlight: 1, attemptBoundMs: 100 });
    await refused(live);
    expect(await redis.zrange(`${prefix}:line:wh_ghost`, '0', '-1')).toEqual([ghost.jobId, live.jobId]);
    // The ghost's wait (100 ms) plus grace (500 ms) pass; the live waiter keeps coming back.
    await sleep(300);
    await refused(live);
    await sleep(500);
    await refused(live);
    expect(await redis.zrange(`${prefix}:line:wh_ghost`, '0', '-1')).toEqual([live.jobId]);
  });

  it('lets a job that will not be attempted leave the line', async () => {
    await admitted(request('wh_leave', { maxInFlight: 1 }));
    const gone = request('wh_leave', { maxInFlight: 1 });
    await refused(gone);
    await gate.leaveLine('wh_leave', gone.jobId!);
    expect(await redis.zcard(`${prefix}:line:wh_leave`)).toBe(0);
  });

  it('lets a test ping (no place in line) take a free slot ahead of sleeping waiters, within the cap', async () => {
    const holder = await admitted(request('wh_ping', { maxInFlight: 1 }));
    await refused(request('wh_ping', { maxInFlight: 1 }));
    await refused(request('wh_ping', { maxInFlight: 1, jobId: null }));
    await holder.release();
    await admitted(request('wh_ping', { maxInFlight: 1, jobId: null }));
  });
});

describe('webhook gate: rate limit', () => {
  it('admits rate_limit attempts per second and projects each waiter to its own later second', async () => {
    const rate = { maxInFlight: 100, rateLimit: 3 };
    for (let i = 0; i < 3; i++) await (await admitted(request('wh_rate', rate))).release();
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) waits.push(await refused(request('wh_rate', rate)));
    // Waiters 0-2 get the next second's slots, 3-5 the one after, 6 the third.
    for (const w of waits.slice(0, 3)) expect(w).toBeGreaterThan(800);
    for (const w of waits.slice(0, 3)) expect(w).toBeLessThanOrEqual(1000);
    for (const w of waits.slice(3, 6)) expect(w).toBeGreaterThan(1800);
    for (const w of waits.slice(3, 6)) expect(w).toBeLessThanOrEqual(2000);
    expect(waits[6]).toBeGreaterThan(2800);
  });

  it('never admits more than rate_limit in any one-second window', async () => {
    const rate = { maxInFlight: 100, rateLimit: 4 };
    const admittedAt: number[] = [];
    const deadline = Date.now() + 2_500;
    while (Date.now() < deadline) {
      const answer = await gate.acquire(request('wh_window', { ...rate, jobId: null }));
      if (answer.admitted) {
        // The admission's own time, on the Redis clock the gate uses.
        const [, score] = await redis.zrange(`${prefix}:rate:wh_window`, '-1', '-1', 'WITHSCORES');
        admittedAt.push(Number(score));
        await answer.slot.release();
      } else {
        await sleep(Math.min(answer.waitMs, 20));
      }
    }
    expect(admittedAt.length).toBeGreaterThanOrEqual(8);
    for (let i = 0; i + 4 < admittedAt.length; i++) {
      expect(admittedAt[i + 4]! - admittedAt[i]!).toBeGreaterThanOrEqual(1000);
    }
  });
});

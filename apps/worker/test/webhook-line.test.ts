import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createDeliveryQueue, createRedisConnection, enqueueDeliveries, lineEntry, type DeliveryQueue } from '@hooklane/queue';
import type { Redis } from 'ioredis';
import { createWebhookLine, type WebhookLine } from '../src/webhook-line.js';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../../../test/support/redis.js';

// The per-webhook line against a real Redis: the cap, FIFO order, the handoff of a freed
// slot, a lapsed lease back at the head, and the Redis work a waiting delivery costs.

let redis: Redis;
let queue: DeliveryQueue;
let prefix: string;

function lineOf(cap: number, leaseMs?: number): WebhookLine {
  return createWebhookLine({ redis, queue, cap, ...(leaseMs ? { leaseMs } : {}) });
}

beforeAll(async () => {
  prefix = randomQueuePrefix('wline');
  redis = createRedisConnection(TEST_REDIS_URL, 'worker');
  queue = createDeliveryQueue({ connection: redis, prefix });
});

afterAll(async () => {
  await queue.close();
  redis.disconnect();
  await deletePrefix(prefix);
});

const entries = (webhook: string, n: number) => Array.from({ length: n }, (_, i) => lineEntry(`dlv_${webhook}_${i}`, 1));

describe('webhook line', () => {
  it('queues only the first `cap` deliveries as jobs; the rest wait in the line, in order, and are handed over one per freed slot', async () => {
    await lineOf(3).publishCap();
    const items = entries('a', 10).map((e) => ({ deliveryId: e.slice(0, -2), attempt: 1, webhookId: 'wh_a' }));
    await enqueueDeliveries(queue, items);
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((j) => j.data.deliveryId).sort()).toEqual(['dlv_a_0', 'dlv_a_1', 'dlv_a_2']);
    expect(jobs.every((j) => j.data.leased === 1)).toBe(true);

    const line = lineOf(3);
    expect((await line.start('wh_a', lineEntry('dlv_a_0', 1), true)).go).toBe(true);
    // Releasing a slot hands it to the head of the line: FIFO.
    expect(await line.release('wh_a', lineEntry('dlv_a_0', 1))).toEqual([lineEntry('dlv_a_3', 1)]);
    expect(await line.release('wh_a', lineEntry('dlv_a_3', 1))).toEqual([lineEntry('dlv_a_4', 1)]);
    // The same delivery queued again while Redis holds it is not added twice.
    await enqueueDeliveries(queue, [{ deliveryId: 'dlv_a_9', attempt: 1, webhookId: 'wh_a' }]);
    expect(await redis.llen(`${prefix}:deliveries:wh:wh_a:line`)).toBe(5);
  });

  it('parks a job that arrives while others wait, at the tail, and never admits it ahead of them', async () => {
    const line = lineOf(1);
    expect((await line.start('wh_b', 'dlv_b_0:1', false)).go).toBe(true);
    expect((await line.start('wh_b', 'dlv_b_1:1', false)).go).toBe(false);
    expect((await line.start('wh_b', 'dlv_b_2:1', false)).go).toBe(false);
    expect(await line.release('wh_b', 'dlv_b_0:1')).toEqual(['dlv_b_1:1']);
    expect(await line.release('wh_b', 'dlv_b_1:1')).toEqual(['dlv_b_2:1']);
    expect(await line.release('wh_b', 'dlv_b_2:1')).toEqual([]);
  });

  it('puts a lapsed lease (a killed worker) back at the head of the line, and drops its late job', async () => {
    const line = lineOf(1, 1_000);
    expect((await line.start('wh_c', 'dlv_c_0:1', false)).go).toBe(true);
    expect((await line.start('wh_c', 'dlv_c_1:1', false)).go).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(await line.dueWebhooks(10)).toContain('wh_c');
    // The reaper's pass: the lapsed entry is first again and gets the slot.
    expect(await line.pump('wh_c')).toEqual(['dlv_c_0:1']);
    // The worker that lost it comes back late with a job that thinks it holds the slot: still held (re-granted), so it runs once.
    expect(await line.renew('wh_c', 'dlv_c_0:1')).toBe(true);
    expect(await line.release('wh_c', 'dlv_c_0:1')).toEqual(['dlv_c_1:1']);
    // A leased job whose lease is gone does nothing.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect((await line.start('wh_c', 'dlv_c_1:1', true)).go).toBe(false);
    expect(await line.pump('wh_c')).toEqual(['dlv_c_1:1']);
  });

  it('hands the slot on when the exchange ends and keeps the entry until its record is written', async () => {
    const line = lineOf(1);
    expect((await line.start('wh_e', 'dlv_e_0:1', false)).go).toBe(true);
    expect((await line.start('wh_e', 'dlv_e_1:1', false)).go).toBe(false);
    expect(await line.settle('wh_e', 'dlv_e_0:1')).toEqual(['dlv_e_1:1']);
    // Still held while it is recorded: the sweeper leaves it alone, a late job for it does nothing,
    // and queueing it again adds nothing to the line.
    expect(await line.holds('wh_e', ['dlv_e_0:1'])).toEqual([true]);
    expect((await line.start('wh_e', 'dlv_e_0:1', true)).go).toBe(false);
    expect((await line.start('wh_e', 'dlv_e_0:1', false)).go).toBe(false);
    expect(await redis.llen(`${prefix}:deliveries:wh:wh_e:line`)).toBe(0);
    // Even with a slot free and nobody waiting, it is not sent again.
    expect(await line.release('wh_e', 'dlv_e_1:1')).toEqual([]);
    expect((await line.start('wh_e', 'dlv_e_0:1', false)).go).toBe(false);
    // Recorded: it leaves Redis.
    expect(await line.release('wh_e', 'dlv_e_0:1')).toEqual([]);
    expect(await line.holds('wh_e', ['dlv_e_0:1'])).toEqual([false]);
  });

  it('gives back an entry whose worker died between the exchange and the record', async () => {
    const line = lineOf(1, 1_000);
    expect((await line.start('wh_f', 'dlv_f_0:1', false)).go).toBe(true);
    expect(await line.settle('wh_f', 'dlv_f_0:1')).toEqual([]);
    expect(await line.renew('wh_f', 'dlv_f_0:1')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(await line.dueWebhooks(10)).toContain('wh_f');
    expect(await line.pump('wh_f')).toEqual(['dlv_f_0:1']);
  });

  it('reserves rate-limited starts so that no second holds more than the limit', async () => {
    const line = lineOf(10);
    const waits = [];
    for (let i = 0; i < 7; i++) waits.push(await line.reserveStart('wh_d', `dlv_d_${i}:1`, 3));
    expect(waits.slice(0, 3).every((w) => w <= 50)).toBe(true);
    expect(waits[3]).toBeGreaterThanOrEqual(1_000);
    expect(waits[6]).toBeGreaterThanOrEqual(2_000);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { killWorkers, spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { waitUntil } from './chaos-helpers.js';

/**
 * Chaos 6 (issue 14): ordered delivery under a worker SIGKILL and a Redis flush.
 *
 * One `fifo` webhook, 2,000 events over 20 ordering keys, 2 worker processes at concurrency
 * 50. Mid-run one worker is SIGKILLed (another is started), then the test's private Redis is
 * flushed (FLUSHALL on a redis-server of its own, so no other file's data is touched). The
 * promise: every delivery ends `succeeded`, the receiver saw every event, and each key's
 * requests arrive in order.
 *
 * "In order", precisely, per key (sequences are gap-free 1, 2, 3 ... on a fresh webhook):
 * - out of order: a request with sequence s arrives after the receiver already answered 200
 *   for a sequence n > s of that key. A repeat of the highest acknowledged sequence (s = n) is
 *   a duplicate of the line's head, allowed and counted.
 * - overtake: a request with sequence s arrives before the receiver answered 200 for s - 1.
 * Both must be 0. Each request's sequence must also be its event's place in its key (the
 * order the events were accepted), so order is checked against what was sent, not only
 * against the header.
 */

const TEAM = 49;
const ONE_LINE_TEAM = 50;
const KEYS = 20;
const EVENTS = 2_000;
const BATCH = 100;
const FLUSH_AFTER_ACKED = 600;
const KILL_AFTER_ACKED = 1_200;
const TAKEOVER_WITHIN_MS = 60_000;

interface Arrival {
  key: string;
  /** The event's place in its key, 0-based, from the event's data. */
  n: number;
  /** X-Webhook-Sequence, NaN when absent. */
  seq: number;
  deliveryId: string;
  attempt: number;
  at: number;
  /** Highest sequence of this key answered 200 when this request arrived (0: none yet). */
  ackedBefore: number;
  answered?: number;
}

/**
 * A real receiver (node:http) that records every request's key, place and sequence, and what
 * it had acknowledged for that key at the moment the request arrived. `hold` may keep a
 * request unanswered (the connection stays open until the sender goes away).
 */
interface OrderReceiver {
  origin: string;
  arrivals: Arrival[];
  /** Highest sequence answered 200, per key. */
  acked: Map<string, number>;
  hold: (arrival: Arrival) => boolean;
  close(): Promise<void>;
}

async function startOrderReceiver(maxDelayMs: number): Promise<OrderReceiver> {
  const arrivals: Arrival[] = [];
  const acked = new Map<string, number>();
  const self: OrderReceiver = { origin: '', arrivals, acked, hold: () => false, close: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { key: string; n: number } };
      const arrival: Arrival = {
        key: body.data.key,
        n: body.data.n,
        seq: Number(req.headers['x-webhook-sequence']),
        deliveryId: String(req.headers['x-webhook-delivery']),
        attempt: Number(req.headers['x-webhook-attempt']),
        at: Date.now(),
        ackedBefore: acked.get(body.data.key) ?? 0,
      };
      arrivals.push(arrival);
      if (self.hold(arrival)) return;
      setTimeout(() => {
        const position = arrival.n + 1;
        acked.set(arrival.key, Math.max(acked.get(arrival.key) ?? 0, position));
        arrival.answered = Date.now();
        res.writeHead(200).end('ok');
      }, Math.random() * maxDelayMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  self.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return self;
}

interface OrderFigures {
  requests: number;
  distinctEvents: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  overtakes: number;
  wrongSequence: number;
}

/**
 * Order is judged on the event's place in its key (n + 1), which `wrongSequence` proves equal
 * to X-Webhook-Sequence on every request; so the same figures also mean something for a
 * webhook that sends no sequence at all.
 */
function judge(arrivals: readonly Arrival[], expected: ReadonlyArray<{ key: string; n: number }>): OrderFigures {
  const seen = new Map<string, number>();
  let outOfOrder = 0;
  let overtakes = 0;
  let wrongSequence = 0;
  for (const a of arrivals) {
    const position = a.n + 1;
    const id = `${a.key}#${a.n}`;
    seen.set(id, (seen.get(id) ?? 0) + 1);
    if (a.seq !== position) wrongSequence++;
    if (position < a.ackedBefore) outOfOrder++;
    if (position - 1 > a.ackedBefore) overtakes++;
  }
  const lost = expected.filter((e) => !seen.has(`${e.key}#${e.n}`)).length;
  const duplicates = [...seen.values()].reduce((sum, count) => sum + count - 1, 0);
  return { requests: arrivals.length, distinctEvents: seen.size, lost, duplicates, outOfOrder, overtakes, wrongSequence };
}

/** The longest time any key went without a request (after its first): a stalled line shows here. */
function longestStall(arrivals: readonly Arrival[]): number {
  const last = new Map<string, number>();
  let longest = 0;
  for (const a of arrivals) {
    const previous = last.get(a.key);
    if (previous !== undefined) longest = Math.max(longest, a.at - previous);
    last.set(a.key, a.at);
  }
  return longest;
}

let redis: RedisServer;
let api: TestApi;
const workers: WorkerProcess[] = [];
const receivers: OrderReceiver[] = [];

const workerEnv = (redisUrl: string, concurrency = 50) => ({
  REDIS_URL: redisUrl,
  WORKER_CONCURRENCY: String(concurrency),
  // 20 lines of one webhook run in parallel only if the webhook's in-flight cap lets them.
  MAX_IN_FLIGHT_PER_WEBHOOK: '50',
  SWEEPER_INTERVAL_MS: '1000',
});

function startWorker(concurrency = 50): WorkerProcess {
  const worker = spawnWorker(api.database.url, api.prefix, workerEnv(redis.url, concurrency));
  workers.push(worker);
  return worker;
}

async function stopWorkers(): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  workers.length = 0;
}

async function createFifoWebhook(url: string, team: number): Promise<string> {
  const hook = await request(api.app)
    .post('/v1/webhooks')
    .set(api.admin)
    .send({ team_id: team, url, events: ['*'], ordering: 'fifo', retries_count: 5, retries_delay: 1 });
  expect(hook.status).toBe(201);
  expect(hook.body.ordering).toBe('fifo');
  return String(hook.body.id);
}

async function emit(team: number, events: ReadonlyArray<{ key: string; n: number }>): Promise<void> {
  const res = await request(api.app)
    .post('/v1/events/batch')
    .set(api.admin)
    .send({
      events: events.map((e) => ({
        event: 'create:task',
        team_id: team,
        ordering_key: e.key,
        // The receiver reads the key and the event's place in it from the data.
        data: { task: { id: e.n, name: `${e.key} #${e.n}` }, key: e.key, n: e.n },
      })),
    });
  expect(res.status).toBe(202);
  expect(res.body.results.every((r: { deliveries?: number }) => r.deliveries === 1)).toBe(true);
}

/** What the run looked like, for a failure message: arrivals, delivery states, workers' last words. */
async function diagnose(webhookId: string, receiver: OrderReceiver): Promise<string> {
  const states = await api.deps.db.$queryRaw<Array<{ status: string; waiting: boolean; n: number }>>`
    SELECT status::text AS status, next_attempt_at IS NULL AS waiting, count(*)::int AS n FROM deliveries WHERE webhook_id = ${webhookId} GROUP BY 1, 2`;
  const tails = workers.map((w, i) => `worker ${i}: ${w.output().split('\n').slice(-8).join('\n')}`);
  return `arrivals ${receiver.arrivals.length}; deliveries ${JSON.stringify(states)}\n${tails.join('\n')}`;
}

async function waitOrExplain(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string, webhookId: string, receiver: OrderReceiver) {
  try {
    await waitUntil(check, timeoutMs, what);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await diagnose(webhookId, receiver)}`);
  }
}

const countStatus = (webhookId: string, status: 'succeeded' | 'pending') => api.deps.db.delivery.count({ where: { webhookId, status } });

beforeAll(async () => {
  redis = await startRedisServer();
  api = await startTestApi('chaosfifo', { REDIS_URL: redis.url });
  // The API's own connections see the flush too; they must not crash the test.
  api.deps.redis.on('error', () => undefined);
  for (const queue of api.deps.queues.all) queue.on('error', () => undefined);
});

afterAll(async () => {
  await killWorkers(workers);
  await Promise.all(receivers.map((r) => r.close()));
  await api?.close();
  await redis?.stop();
});

describe('ordered delivery under chaos', () => {
  it('2,000 events over 20 keys, a worker killed and Redis flushed mid-run: 0 lost, 0 out of order', async () => {
    const receiver = await startOrderReceiver(10);
    receivers.push(receiver);
    const webhookId = await createFifoWebhook(`${receiver.origin}/fifo`, TEAM);

    startWorker();
    startWorker();
    await Promise.all(workers.map((w) => waitForStart(w)));

    // Key k's n-th event is event k + 20n: the keys interleave in every batch.
    const expected = Array.from({ length: EVENTS }, (_, i) => ({ key: `key-${String(i % KEYS).padStart(2, '0')}`, n: Math.floor(i / KEYS) }));
    const started = Date.now();
    // Batches one after another (each accepted before the next is sent), so lines grow at
    // their tails while their heads are being delivered.
    const emitting = (async () => {
      for (let i = 0; i < EVENTS; i += BATCH) await emit(TEAM, expected.slice(i, i + BATCH));
    })();
    emitting.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile

    // The flush first, then the kill: the killed worker's lines then wait for its leases to
    // lapse (45 s), instead of being re-queued early by the sweep that follows a flush.
    const ackedTotal = () => [...receiver.acked.values()].reduce((sum, n) => sum + n, 0);
    await waitOrExplain(() => ackedTotal() >= FLUSH_AFTER_ACKED, 60_000, 'the run to be under way', webhookId, receiver);
    await redis.flushall();
    const ackedAtFlush = ackedTotal();

    await waitOrExplain(() => ackedTotal() >= KILL_AFTER_ACKED, 90_000, 'the run to go on after the flush', webhookId, receiver);
    const victim = workers[0]!;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const ackedAtKill = ackedTotal();
    const replacement = startWorker();
    await waitForStart(replacement);
    await emitting;

    await waitOrExplain(async () => (await countStatus(webhookId, 'succeeded')) === EVENTS, 150_000, 'every delivery to succeed', webhookId, receiver);
    const seconds = (Date.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // late duplicates would show by now

    const figures = judge(receiver.arrivals, expected);
    const longestStallMs = longestStall(receiver.arrivals);
    const deliveries = await api.deps.db.delivery.findMany({ where: { webhookId }, select: { status: true } });
    const lines = await api.deps.db.$queryRaw<Array<{ line: string; last_sequence: number; pending: number }>>`
      SELECT line, last_sequence, pending FROM delivery_lines WHERE webhook_id = ${webhookId} ORDER BY line`;
    console.log(
      `fifo-order: ${EVENTS} events over ${KEYS} keys, flushed Redis after ${ackedAtFlush} acknowledged, killed a worker after ${ackedAtKill}; ` +
        `all succeeded in ${seconds.toFixed(1)} s, longest wait of a line ${(longestStallMs / 1000).toFixed(1)} s; requests ${figures.requests}, lost ${figures.lost}, duplicates ${figures.duplicates}, ` +
        `out of order ${figures.outOfOrder}, overtakes ${figures.overtakes}, wrong sequence ${figures.wrongSequence}`,
    );

    expect(deliveries).toHaveLength(EVENTS);
    expect(deliveries.every((d) => d.status === 'succeeded')).toBe(true);
    expect(figures.lost).toBe(0);
    expect(figures.distinctEvents).toBe(EVENTS);
    expect(figures.outOfOrder).toBe(0);
    expect(figures.overtakes).toBe(0);
    expect(figures.wrongSequence).toBe(0);
    // The killed worker's heads were taken over within 60 s.
    expect(longestStallMs).toBeLessThan(TAKEOVER_WITHIN_MS);
    // Every line handed out exactly its 100 numbers and holds nothing any more.
    expect(lines).toEqual(Array.from({ length: KEYS }, (_, k) => ({ line: `key-${String(k).padStart(2, '0')}`, last_sequence: EVENTS / KEYS, pending: 0 })));
    for (const w of workers.filter((w) => w !== victim)) expect(w.child.exitCode).toBeNull();
    await stopWorkers();
  }, 300_000);

  it('a worker SIGKILLed mid-line keeps order, and another takes over the head within 60 s', async () => {
    const LINE = 30;
    const HELD = 10;
    const receiver = await startOrderReceiver(5);
    receivers.push(receiver);
    let heldOnce = false;
    // The first request for sequence 10 is never answered: its worker dies holding the line's head.
    receiver.hold = (a) => {
      if (a.seq !== HELD || heldOnce) return false;
      heldOnce = true;
      return true;
    };
    const webhookId = await createFifoWebhook(`${receiver.origin}/one-line`, ONE_LINE_TEAM);

    const victim = startWorker(10);
    await waitForStart(victim);
    const expected = Array.from({ length: LINE }, (_, n) => ({ key: 'only', n }));
    await emit(ONE_LINE_TEAM, expected);

    await waitOrExplain(() => heldOnce, 60_000, `sequence ${HELD} to arrive`, webhookId, receiver);
    // Nothing behind the head goes out while it is unanswered.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.arrivals.filter((a) => a.seq > HELD)).toEqual([]);

    const survivor = startWorker(10);
    await waitForStart(survivor);
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const killedAt = Date.now();

    await waitOrExplain(() => receiver.arrivals.filter((a) => a.seq === HELD).length >= 2, TAKEOVER_WITHIN_MS + 5_000, 'the head to be taken over', webhookId, receiver);
    const takeoverMs = receiver.arrivals.filter((a) => a.seq === HELD)[1]!.at - killedAt;
    await waitOrExplain(async () => (await countStatus(webhookId, 'succeeded')) === LINE, 30_000, 'the line to finish', webhookId, receiver);

    const figures = judge(receiver.arrivals, expected);
    console.log(
      `fifo-order (one line, worker killed holding sequence ${HELD}): head taken over ${takeoverMs} ms after the kill; ` +
        `requests ${figures.requests}, lost ${figures.lost}, duplicates ${figures.duplicates}, out of order ${figures.outOfOrder}, overtakes ${figures.overtakes}`,
    );
    expect(takeoverMs).toBeLessThan(TAKEOVER_WITHIN_MS);
    expect(figures).toMatchObject({ lost: 0, duplicates: 1, outOfOrder: 0, overtakes: 0, wrongSequence: 0 });
    // The arrival order is exactly 1..30 with the held head sent twice.
    expect(receiver.arrivals.map((a) => a.seq)).toEqual([...Array.from({ length: HELD }, (_, i) => i + 1), ...Array.from({ length: LINE - HELD + 1 }, (_, i) => HELD + i)]);
    await stopWorkers();
  }, 150_000);
});

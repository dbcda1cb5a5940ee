import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../support/api.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

/**
 * Ordered delivery end to end (contract "Ordered delivery (v1.1)"): a real API, two real
 * workers at concurrency 50 on the same two queue partitions, a real receiver. Every assertion is on what
 * the receiver saw, in the order it saw it.
 */

const TEAM = 73;

interface Seen {
  n: number;
  key: string | null;
  sequence: string | undefined;
  attempt: string | undefined;
  ok: boolean;
}

let api: TestApi;
const workers: TestWorker[] = [];
let server: Server;
let origin: string;
const seen = new Map<string, Seen[]>();
/** Per path, task ids to answer 500 for, and how many more times. */
const failures = new Map<string, Map<number, number>>();

function task(n: number) {
  return { task: { id: n, name: `Task ${n}`, project_id: 1, mode: 'annotation', status: 'annotation', size: 1 }, before_update: {} };
}

async function createHook(path: string, fields: Record<string, unknown> = {}): Promise<string> {
  const res = await request(api.app)
    .post('/v1/webhooks')
    .set(api.admin)
    .send({ team_id: TEAM, url: `${origin}${path}`, events: ['update:task'], retries_delay: 1, ...fields });
  expect({ status: res.status, body: res.status === 201 ? null : res.body }).toEqual({ status: 201, body: null });
  return res.body.id as string;
}

/** One request per event, each sent after the previous 202: the order the contract promises. */
async function emit(path: string, from: number, count: number, key: string | null = null): Promise<void> {
  for (let n = from; n < from + count; n++) {
    const res = await request(api.app)
      .post('/v1/events')
      .set(api.admin)
      .send({ event: 'update:task', team_id: TEAM, data: { ...task(n), path }, ...(key === null ? {} : { ordering_key: key }) });
    expect(res.status).toBe(202);
  }
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const delivered = (path: string, key?: string | null) =>
  (seen.get(path) ?? []).filter((s) => s.ok && (key === undefined || s.key === key));

beforeAll(async () => {
  // Two partitions: a line's order is kept in PostgreSQL, whatever queue its deliveries take.
  api = await startTestApi('e2efifo', { QUEUE_PARTITIONS: '2' });
  for (let i = 0; i < 2; i++) {
    workers.push(
      await startTestWorker({ databaseUrl: api.database.url, prefix: api.prefix, env: { WORKER_CONCURRENCY: '50', QUEUE_PARTITIONS: '2' } }),
    );
  }
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const envelope = JSON.parse(body) as { data: { task?: { id: number } }; event: string };
      const n = envelope.data.task?.id ?? -1;
      const left = failures.get(path)?.get(n) ?? 0;
      if (left > 0) failures.get(path)!.set(n, left - 1);
      const entry: Seen = {
        n,
        key: null,
        sequence: req.headers['x-webhook-sequence'] as string | undefined,
        attempt: req.headers['x-webhook-attempt'] as string | undefined,
        ok: left === 0,
      };
      const list = seen.get(path) ?? [];
      list.push(entry);
      seen.set(path, list);
      // A little jitter, so that without ordering two deliveries in flight would overtake.
      setTimeout(() => res.writeHead(left > 0 ? 500 : 200).end(left > 0 ? 'not yet' : 'ok'), Math.random() * 10);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const worker of workers) await worker.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await api?.close();
});

describe('ordering: "fifo"', () => {
  it('delivers 50 events in order with X-Webhook-Sequence 1..50; a failing third holds everything behind it', async () => {
    const path = '/fifo-50';
    await createHook(path, { ordering: 'fifo' });
    failures.set(path, new Map([[3, 2]]));
    await emit(path, 1, 50);
    await waitFor(() => delivered(path).length >= 50, '50 deliveries');
    const all = seen.get(path)!;
    // The third was tried three times, and nothing after it arrived before its success.
    expect(all.filter((s) => s.n === 3).map((s) => [s.ok, s.attempt, s.sequence])).toEqual([
      [false, '1', '3'],
      [false, '2', '3'],
      [true, '3', '3'],
    ]);
    const thirdDone = all.findIndex((s) => s.n === 3 && s.ok);
    expect(all.slice(0, thirdDone).filter((s) => s.n > 3)).toEqual([]);
    expect(delivered(path).map((s) => s.n)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(delivered(path).map((s) => s.sequence)).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
  }, 60_000);

  it('runs two ordering keys in parallel: one held by failures does not hold the other', async () => {
    const path = '/fifo-keys';
    await createHook(path, { ordering: 'fifo', retries_delay: 1, retries_count: 20 });
    // The held key's head fails until the free key is done, whatever the machine's speed.
    failures.set(path, new Map([[101, 1_000]]));
    await emit(path, 101, 5, 'held');
    await emit(path, 201, 20, 'free');
    await waitFor(() => seen.get(path)?.filter((s) => s.ok && s.n > 200).length === 20, 'the free key');
    expect(seen.get(path)!.filter((s) => s.ok && s.n > 100 && s.n < 200)).toEqual([]);
    failures.get(path)!.set(101, 0);
    await waitFor(() => seen.get(path)!.filter((s) => s.ok && s.n < 200).length === 5, 'the held key');
    const ok = seen.get(path)!.filter((s) => s.ok);
    expect(ok.filter((s) => s.n < 200).map((s) => [s.n, s.sequence])).toEqual([101, 102, 103, 104, 105].map((n, i) => [n, String(i + 1)]));
    expect(ok.filter((s) => s.n > 200).map((s) => [s.n, s.sequence])).toEqual(
      Array.from({ length: 20 }, (_, i) => [201 + i, String(i + 1)]),
    );
  }, 60_000);

  it('appends a redelivery to the end of its line with the next sequence number', async () => {
    const path = '/fifo-redeliver';
    const hook = await createHook(path, { ordering: 'fifo' });
    await emit(path, 1, 3);
    await waitFor(() => delivered(path).length === 3, 'three deliveries');
    const list = await request(api.app).get(`/v1/webhooks/${hook}/deliveries`).set(api.admin);
    const oldest = (list.body.data as Array<{ id: string; created_at: string }>).at(-1)!;
    const again = await request(api.app).post(`/v1/deliveries/${oldest.id}/redeliver`).set(api.admin);
    expect(again.status).toBe(202);
    await emit(path, 4, 1);
    await waitFor(() => delivered(path).length === 5, 'the redelivery and one more');
    expect(delivered(path).map((s) => [s.n, s.sequence])).toEqual([[1, '1'], [2, '2'], [3, '3'], [1, '4'], [4, '5']]);
  }, 60_000);

  it('lets the waiting deliveries go at once when ordering is switched to "none"', async () => {
    const path = '/fifo-switch';
    const hook = await createHook(path, { ordering: 'fifo', retries_delay: 60 });
    failures.set(path, new Map([[1, 1]]));
    await emit(path, 1, 4);
    await waitFor(() => (seen.get(path)?.length ?? 0) === 1, 'the first attempt');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(delivered(path)).toEqual([]); // held behind a head that retries in a minute
    const res = await request(api.app).patch(`/v1/webhooks/${hook}`).set(api.admin).send({ ordering: 'none' });
    expect([res.status, res.body.ordering]).toEqual([200, 'none']);
    await waitFor(() => delivered(path).length === 3, 'the three waiting ones');
    expect(delivered(path).map((s) => s.n).sort()).toEqual([2, 3, 4]);
  }, 60_000);
});

describe('ordering: "none"', () => {
  it('is unchanged: everything is delivered, without X-Webhook-Sequence, and a failing delivery holds nothing', async () => {
    const path = '/plain';
    await createHook(path, { retries_delay: 3 });
    failures.set(path, new Map([[1, 1]]));
    await emit(path, 1, 10, 'ignored');
    await waitFor(() => delivered(path).length === 10, 'ten deliveries');
    expect(seen.get(path)!.every((s) => s.sequence === undefined)).toBe(true);
    // The first failed once and waited 3 s for its retry; the others did not wait for it.
    expect(delivered(path)[0]!.n).not.toBe(1);
  }, 60_000);

  it('a test ping to a fifo webhook waits in no line and carries no sequence', async () => {
    const path = '/fifo-ping';
    const hook = await createHook(path, { ordering: 'fifo', retries_delay: 60 });
    failures.set(path, new Map([[1, 1]]));
    await emit(path, 1, 2);
    await waitFor(() => (seen.get(path)?.length ?? 0) === 1, 'the first attempt');
    const ping = await request(api.app).post(`/v1/webhooks/${hook}/test`).set(api.admin).send({});
    expect([ping.status, ping.body.success]).toEqual([200, true]);
    const last = seen.get(path)!.at(-1)!;
    expect([last.n, last.sequence]).toEqual([-1, undefined]);
  }, 60_000);
});

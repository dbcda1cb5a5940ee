import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

/**
 * Erasure waits for attempts already in flight (apps/api/src/erasure/in-flight.ts), with a
 * real worker and a real receiver, and each attempt held at a point the test controls:
 * - `/held` on 127.0.0.1: the receiver has the request and holds its answer open;
 * - `/late` on `late-<team>.example.test`: the worker has loaded the delivery and taken its slot,
 *   and is still resolving the name (the test holds the lookup), so its request reaches the
 *   receiver only once the test lets the lookup answer.
 * The erasure is sent while both are held; the lookup is let go 1 s later, the held answer
 * 1.5 s later. The answer must come after both ended: nothing reaches the receiver after it
 * (the late request would, were the route not waiting), and no attempt row is left.
 */

interface Gate {
  open(): void;
  opened: Promise<void>;
}

function gate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

let api: TestApi;
let worker: TestWorker;
let receiver: Receiver;
let lookupGate = gate();
let answerGate = gate();
const lookups: string[] = [];
/** Per held path: when the receiver's exchange ended (its answer sent, or the connection closed). */
const ended = new Map<string, number>();

const heldLookup: LookupFunction = (hostname, options, callback) => {
  lookups.push(hostname);
  void lookupGate.opened.then(() => {
    const list: LookupAddress[] = [{ address: '127.0.0.1', family: 4 }];
    if (options.all) callback(null, list);
    else callback(null, '127.0.0.1', 4);
  });
};

beforeAll(async () => {
  api = await startTestApi('erasureinflight');
  worker = await startTestWorker({ databaseUrl: api.database.url, prefix: api.prefix, lookup: heldLookup });
  receiver = await startReceiver(async (req, res) => {
    if (req.path.startsWith('/held')) {
      res.once('close', () => ended.set(req.path, Date.now()));
      await answerGate.opened;
    }
    res.writeHead(200).end('ok');
  });
}, 60_000);

afterAll(async () => {
  lookupGate.open();
  answerGate.open();
  await worker?.close();
  await receiver?.close();
  await api?.close();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(20);
  }
}

async function webhook(team: number, url: string): Promise<string> {
  const res = await request(api.app).post('/v1/webhooks').set(api.admin).send({ team_id: team, url, events: ['ping'] });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function rowsOf(sql: string, params: unknown[]): Promise<number> {
  const rows = await api.deps.db.$queryRawUnsafe<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM (${sql}) x`, ...params);
  return rows[0]?.n ?? -1;
}

interface Held {
  eventId: string;
  deliveryIds: string[];
  heldPath: string;
  latePath: string;
}

/** A team with a `/held` and a `/late` webhook and one event, both attempts of which are held in flight. */
async function eventInFlight(team: number): Promise<Held> {
  lookupGate = gate();
  answerGate = gate();
  lookups.length = 0;
  const heldPath = `/held-${team}`;
  const latePath = `/late-${team}`;
  await webhook(team, `${receiver.origin}${heldPath}`);
  // A name of its own per test: a kept-alive connection to a name already resolved would skip the lookup.
  await webhook(team, `http://late-${team}.example.test:${receiver.port}${latePath}`);
  const emitted = await request(api.app).post('/v1/events').set(api.admin).send({ event: 'ping', team_id: team, data: { n: team } });
  expect(emitted.status).toBe(202);
  const eventId = emitted.body.event_id as string;
  const event = await request(api.app).get(`/v1/events/${eventId}`).set(api.admin);
  const deliveryIds = (event.body.deliveries as Array<{ id: string }>).map((d) => d.id);
  expect(deliveryIds).toHaveLength(2);
  await waitFor(() => receiver.to(heldPath).length === 1 && lookups.includes(`late-${team}.example.test`));
  return { eventId, deliveryIds, heldPath, latePath };
}

/** Sends the erasure while both attempts are held, lets them go (lookup at 1 s, answer at 1.5 s), returns when it answered. */
async function eraseWhileHeld(erase: () => request.Test): Promise<{ res: request.Response; answeredAt: number }> {
  const sent = Date.now();
  const pending = erase().then((res) => ({ res, answeredAt: Date.now() }));
  const released = (async () => {
    await sleep(1_000);
    lookupGate.open();
    await sleep(500);
    answerGate.open();
  })();
  const [out] = await Promise.all([pending, released]);
  console.log(`erasure answered ${out.answeredAt - sent} ms after it was sent (held attempts let go at 1000 and 1500 ms)`);
  return out;
}

async function expectNothingAfter(held: Held, answeredAt: number): Promise<void> {
  // The held exchange was over before the erasure answered: the route waited for that attempt to end.
  await waitFor(() => ended.has(held.heldPath), 5_000);
  expect(ended.get(held.heldPath)!).toBeLessThanOrEqual(answeredAt);
  await sleep(2_000);
  const late = receiver.requests.filter((r) => [held.heldPath, held.latePath].includes(r.path) && r.at > answeredAt);
  expect(late).toEqual([]);
  expect(await rowsOf(`SELECT 1 FROM attempts WHERE delivery_id = ANY($1::text[])`, [held.deliveryIds])).toBe(0);
  expect(await rowsOf(`SELECT 1 FROM deliveries WHERE event_id = $1`, [held.eventId])).toBe(0);
  expect(await rowsOf(`SELECT 1 FROM events WHERE id = $1`, [held.eventId])).toBe(0);
}

describe('erasure waits for attempts in flight', () => {
  it('DELETE /v1/events/:id answers only after the held attempts ended; nothing arrives after the 204', async () => {
    const held = await eventInFlight(801);
    const { res, answeredAt } = await eraseWhileHeld(() => request(api.app).delete(`/v1/events/${held.eventId}`).set(api.admin));
    expect(res.status).toBe(204);
    await expectNothingAfter(held, answeredAt);
  }, 30_000);

  it('DELETE /v1/teams/:team_id answers only after the held attempts ended; nothing arrives after the 200', async () => {
    const held = await eventInFlight(802);
    const { res, answeredAt } = await eraseWhileHeld(() => request(api.app).delete('/v1/teams/802').set(api.admin));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ webhooks: 2, events: 1, deliveries: 2, api_keys: 0 });
    await expectNothingAfter(held, answeredAt);
  }, 30_000);
});

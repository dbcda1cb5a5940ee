import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Hooklane, HooklaneError, type CallOptions } from '../src/index.js';
import { closeServer, JOB_DATA, listen, startSdkHarness, type SdkHarness } from './harness.js';

/**
 * A real HTTP proxy between the SDK and the API. It forwards every request, but can lose
 * the API's answer to an emit (replacing it by a 503, or by a dropped connection) after the
 * API has stored the event: exactly the case where a naive retry would store it twice.
 */

type Fault = 'none' | 'lose-answer-503' | 'lose-answer-reset' | 'always-503';
interface Seen {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
}

let h: SdkHarness;
let proxy: Server;
let proxyUrl: string;
let fault: Fault = 'none';
let faultsLeft = 0;
const seen: Seen[] = [];
let team = 300;

function forward(req: IncomingMessage, body: Buffer, target: URL): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers as Record<string, string>, body: Buffer.concat(chunks) }));
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

beforeAll(async () => {
  h = await startSdkHarness('sdkretry');
  const target = new URL(h.baseUrl);
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      seen.push({ method: req.method!, path: req.url!, idempotencyKey: req.headers['idempotency-key'] as string | undefined });
      const isEmit = req.method === 'POST' && req.url!.startsWith('/v1/events');
      const inject = fault !== 'none' && isEmit && (fault === 'always-503' || faultsLeft-- > 0);
      if (inject && fault === 'always-503') {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'service_unavailable', message: 'injected', details: [] } }));
        return;
      }
      const answer = await forward(req, Buffer.concat(chunks), target);
      if (inject && fault === 'lose-answer-503') {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'service_unavailable', message: 'answer lost by the proxy', details: [] } }));
      } else if (inject && fault === 'lose-answer-reset') {
        req.socket.resetAndDestroy();
      } else {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      }
    });
  });
  proxyUrl = await listen(proxy);
});

afterAll(async () => {
  if (proxy) await closeServer(proxy);
  await h?.close();
});

async function setup(faultMode: Fault, count = 1) {
  const { key, client: direct } = await h.teamClient(++team);
  const webhook = await direct.webhooks.create({ team_id: team, url: 'http://127.0.0.1:9/never', events: ['*'], is_active: true });
  fault = faultMode;
  faultsLeft = count;
  seen.length = 0;
  return { direct, webhook, viaProxy: new Hooklane({ baseUrl: proxyUrl, token: key, retryDelayMs: 20 }) };
}

const emits = () => seen.filter((s) => s.method === 'POST' && s.path.startsWith('/v1/events'));

describe('emit retries through a proxy that loses answers', () => {
  it('a 503 after the API stored the event: retried with the same key, one event', async () => {
    const { direct, webhook, viaProxy } = await setup('lose-answer-503');
    const accepted = await viaProxy.events.emit({ event: 'labeling_job.completed', team_id: team, data: JOB_DATA });
    expect(emits()).toHaveLength(2);
    expect(emits()[0]!.idempotencyKey).toBeTruthy();
    expect(emits()[1]!.idempotencyKey).toBe(emits()[0]!.idempotencyKey);
    const deliveries = await direct.webhooks.deliveries(webhook.id).toArray();
    expect(deliveries.map((d) => d.event_id)).toEqual([accepted.event_id]);
  });

  it('a dropped connection is retried the same way; a given idempotencyKey is kept', async () => {
    const { direct, webhook, viaProxy } = await setup('lose-answer-reset', 2);
    const accepted = await viaProxy.events.emit(
      { event: 'labeling_job.completed', team_id: team, data: JOB_DATA },
      { idempotencyKey: `mine-${team}` },
    );
    expect(emits().map((s) => s.idempotencyKey)).toEqual([`mine-${team}`, `mine-${team}`, `mine-${team}`]);
    const deliveries = await direct.webhooks.deliveries(webhook.id).toArray();
    expect(deliveries.map((d) => d.event_id)).toEqual([accepted.event_id]);
  });

  it('emitBatch retries too, and its events are stored once', async () => {
    const { direct, webhook, viaProxy } = await setup('lose-answer-503');
    const result = await viaProxy.events.emitBatch([
      { event: 'labeling_job.completed', team_id: team, data: JOB_DATA },
      { event: 'labeling_job.completed', team_id: team, data: JOB_DATA },
    ]);
    expect(emits()).toHaveLength(2);
    const ids = result.results.map((r) => ('event_id' in r ? r.event_id : null));
    const deliveries = await direct.webhooks.deliveries(webhook.id).toArray();
    expect(deliveries.map((d) => d.event_id).sort()).toEqual([...ids].sort());
  });

  it('gives up after 3 tries by default and after `retries` tries when set', async () => {
    const { viaProxy } = await setup('always-503');
    const body = { event: 'labeling_job.completed' as const, team_id: team, data: JOB_DATA };
    await expect(viaProxy.events.emit(body)).rejects.toMatchObject({ status: 503, code: 'service_unavailable' });
    expect(emits()).toHaveLength(3);
    seen.length = 0;
    await expect(viaProxy.events.emit(body, { retries: 5 })).rejects.toBeInstanceOf(HooklaneError);
    expect(emits()).toHaveLength(5);
    seen.length = 0;
    await expect(viaProxy.events.emit(body, { retries: 1 })).rejects.toMatchObject({ status: 503 });
    expect(emits()).toHaveLength(1);
  });
});

describe('timeouts and AbortSignal', () => {
  let silent: net.Server;
  let silentUrl: string;
  const sockets = new Set<net.Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers.
    silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('timeoutMs ends a call with HooklaneError code timeout; a per-call timeoutMs wins', async () => {
    const client = new Hooklane({ baseUrl: silentUrl, token: 't', timeoutMs: 150 });
    const started = Date.now();
    await expect(client.webhooks.get('wh_x')).rejects.toMatchObject({ status: 0, code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5_000);
    const slowClient = new Hooklane({ baseUrl: silentUrl, token: 't', timeoutMs: 60_000 });
    await expect(slowClient.eventTypes.list({ timeoutMs: 100 })).rejects.toMatchObject({ code: 'timeout' });
  });

  it('an AbortSignal aborts the call, and an aborted emit is not retried', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const client = new Hooklane({ baseUrl: silentUrl, token: 't', timeoutMs: 60_000, retryDelayMs: 10, fetch: counting });
    const controller = new AbortController();
    const pending = client.deliveries.get('dlv_x', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    calls = 0;
    const emitAbort = new AbortController();
    const emitting = client.events.emit({ event: 'ping', team_id: 1, data: {} }, { signal: emitAbort.signal });
    setTimeout(() => emitAbort.abort(), 100);
    await expect(emitting).rejects.toMatchObject({ name: 'AbortError' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(1);
  });

  it('every method of the client takes timeoutMs and signal', async () => {
    // A method that ignored its options would end on this client default instead, named below.
    const client = new Hooklane({ baseUrl: silentUrl, token: 't', timeoutMs: 3_000, retries: 1 });
    const event = { event: 'ping' as const, team_id: 1, data: {} };
    const methods: Record<string, (options: CallOptions) => Promise<unknown>> = {
      'webhooks.create': (o) => client.webhooks.create({ team_id: 1, url: 'http://example.com', events: ['*'] }, o),
      'webhooks.get': (o) => client.webhooks.get('wh_x', o),
      'webhooks.update': (o) => client.webhooks.update('wh_x', { is_active: false }, o),
      'webhooks.delete': (o) => client.webhooks.delete('wh_x', o),
      'webhooks.list': (o) => client.webhooks.list({ team_id: 1 }, o).toArray(),
      'webhooks.test': (o) => client.webhooks.test('wh_x', {}, o),
      'webhooks.getSecret': (o) => client.webhooks.getSecret('wh_x', o),
      'webhooks.rotateSecret': (o) => client.webhooks.rotateSecret('wh_x', {}, o),
      'webhooks.recover': (o) => client.webhooks.recover('wh_x', { since: new Date() }, o),
      'webhooks.deliveries': (o) => client.webhooks.deliveries('wh_x', {}, o).toArray(),
      'events.emit': (o) => client.events.emit(event, o),
      'events.emitBatch': (o) => client.events.emitBatch([event], o),
      'events.get': (o) => client.events.get('evt_x', o),
      'events.delete': (o) => client.events.delete('evt_x', o),
      'deliveries.get': (o) => client.deliveries.get('dlv_x', o),
      'deliveries.redeliver': (o) => client.deliveries.redeliver('dlv_x', o),
      'eventTypes.list': (o) => client.eventTypes.list(o),
      'apiKeys.create': (o) => client.apiKeys.create({ team_id: 1 }, o),
      'apiKeys.revoke': (o) => client.apiKeys.revoke('key_x', o),
      'portal.createSession': (o) => client.portal.createSession({ team_id: 1 }, o),
      'teams.erase': (o) => client.teams.erase(1, o),
    };
    const outcome = (call: Promise<unknown>) => {
      const started = Date.now();
      return call.then(
        () => 'answered',
        (e: { name?: string; code?: string }) => {
          if (Date.now() - started >= 2_500) return `${e.code ?? e.name} after the client's 3 s default`;
          return e.name === 'AbortError' ? 'AbortError' : (e.code ?? String(e));
        },
      );
    };
    const timedOut = await Promise.all(Object.values(methods).map((call) => outcome(call({ timeoutMs: 80 }))));
    expect(Object.fromEntries(Object.keys(methods).map((name, i) => [name, timedOut[i]]))).toEqual(
      Object.fromEntries(Object.keys(methods).map((name) => [name, 'timeout'])),
    );
    const controller = new AbortController();
    const pending = Object.values(methods).map((call) => outcome(call({ signal: controller.signal })));
    setTimeout(() => controller.abort(), 80);
    const aborted = await Promise.all(pending);
    expect(Object.fromEntries(Object.keys(methods).map((name, i) => [name, aborted[i]]))).toEqual(
      Object.fromEntries(Object.keys(methods).map((name) => [name, 'AbortError'])),
    );
  });

  it('a refused connection is a network_error HooklaneError, and emits retry it', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const client = new Hooklane({ baseUrl: `http://127.0.0.1:${port}`, token: 't', fetch: counting, retryDelayMs: 5 });
    await expect(client.webhooks.get('wh_x')).rejects.toMatchObject({ status: 0, code: 'network_error' });
    expect(calls).toBe(1);
    calls = 0;
    await expect(client.events.emit({ event: 'ping', team_id: 1, data: {} })).rejects.toMatchObject({ code: 'network_error' });
    expect(calls).toBe(3);
  });
});

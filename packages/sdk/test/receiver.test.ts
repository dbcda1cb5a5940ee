import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { hooklaneReceiver, type Hooklane, type WebhookEnvelope } from '../src/index.js';
import { closeServer, JOB_DATA, listen, startSdkHarness, waitFor, type SdkHarness } from './harness.js';

/**
 * hooklaneReceiver receiving real deliveries from a running worker, behind Express and
 * behind plain node:http; replays of captured deliveries for stale and tampered cases.
 */

const SECRET = 'whsec_c2RrLXJlY2VpdmVyLXRlc3Qtc2VjcmV0LTAx';
const NEW_SECRET = 'whsec_c2RrLXJlY2VpdmVyLXRlc3Qtc2VjcmV0LTAy';
const PLAIN_SECRET = 'plain-receiver-secret-01';

let h: SdkHarness;
let expressServer: Server;
let nodeServer: Server;
let expressUrl: string;
let nodeUrl: string;
const handled: Array<{ path: string; event: WebhookEnvelope }> = [];
const captured: Array<{ headers: Record<string, string>; body: Buffer }> = [];
let team = 500;

beforeAll(async () => {
  h = await startSdkHarness('sdkreceiver', { worker: true });
  const app = express();
  const record = (req: express.Request, res: express.Response) => {
    handled.push({ path: req.path, event: req.hooklaneEvent! });
    res.status(204).end();
  };
  app.post('/hooks', hooklaneReceiver({ secret: SECRET }), record);
  app.post('/old-only', hooklaneReceiver({ secret: SECRET }), record);
  app.post('/new-only', hooklaneReceiver({ secrets: [NEW_SECRET] }), record);
  app.post('/wrong', hooklaneReceiver({ secret: 'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==' }), record);
  app.post('/short', hooklaneReceiver({ secret: SECRET, toleranceSeconds: 1 }), record);
  app.post('/plain', hooklaneReceiver({ secret: PLAIN_SECRET }), record);
  app.post('/sha256-only', hooklaneReceiver({ secret: SECRET, schemes: ['sha256'] }), record);
  app.post('/sha1-only', hooklaneReceiver({ secret: SECRET, schemes: ['sha1'] }), record);
  app.post('/sha256-wrong', hooklaneReceiver({ secret: NEW_SECRET, schemes: ['sha256'] }), record);
  app.post('/after-raw', express.raw({ type: '*/*' }), hooklaneReceiver({ secret: SECRET }), record);
  // A tap keeps exactly what the worker sent, for the replays below.
  app.post('/tap', express.raw({ type: '*/*' }), (req, res) => {
    captured.push({ headers: req.headers as Record<string, string>, body: req.body as Buffer });
    res.status(200).end();
  });
  expressServer = createServer(app);
  expressUrl = await listen(expressServer);

  const receive = hooklaneReceiver({ secret: SECRET });
  nodeServer = createServer((req, res) =>
    receive(req, res, (err) => {
      if (err) return void res.writeHead(500).end();
      handled.push({ path: 'node:http', event: (req as typeof req & { hooklaneEvent: WebhookEnvelope }).hooklaneEvent });
      res.writeHead(200).end('ok');
    }),
  );
  nodeUrl = await listen(nodeServer);
});

afterAll(async () => {
  if (expressServer) await closeServer(expressServer);
  if (nodeServer) await closeServer(nodeServer);
  await h?.close();
});

async function webhookTo(client: Hooklane, url: string, secret = SECRET) {
  return client.webhooks.create({ team_id: team, url, events: ['*'], secret, retries_count: 0 });
}

async function lastAttempt(client: Hooklane, webhookId: string) {
  return waitFor(`an attempt for ${webhookId}`, async () => {
    const [delivery] = await client.webhooks.deliveries(webhookId).toArray();
    if (!delivery || delivery.status === 'pending') return undefined;
    return (await client.deliveries.get(delivery.id)).attempt_log[0];
  });
}

const emit = (client: Hooklane) => client.events.emit({ event: 'labeling_job.completed', team_id: team, data: JOB_DATA });

describe('hooklaneReceiver with a running worker', () => {
  it('verifies real deliveries behind Express (raw body read by itself or kept by express.raw) and node:http', async () => {
    team++;
    const { client } = await h.teamClient(team);
    const hooks = [await webhookTo(client, `${expressUrl}/hooks`), await webhookTo(client, `${expressUrl}/after-raw`), await webhookTo(client, nodeUrl)];
    const { event_id } = await emit(client);
    for (const wh of hooks) expect(await lastAttempt(client, wh.id)).toMatchObject({ status_code: expect.any(Number) });
    for (const path of ['/hooks', '/after-raw', 'node:http']) {
      const got = handled.find((x) => x.path === path && x.event.id === event_id);
      expect(got?.event).toMatchObject({ id: event_id, event: 'labeling_job.completed', team_id: team, data: JOB_DATA });
    }
    expect((await lastAttempt(client, hooks[2]!.id))?.status_code).toBe(200);
  });

  it('during a rotation, a receiver holding only the old or only the new secret accepts the delivery', async () => {
    team++;
    const { client } = await h.teamClient(team);
    const oldOnly = await webhookTo(client, `${expressUrl}/old-only`);
    const newOnly = await webhookTo(client, `${expressUrl}/new-only`);
    await client.webhooks.rotateSecret(oldOnly.id, { secret: NEW_SECRET });
    await client.webhooks.rotateSecret(newOnly.id, { secret: NEW_SECRET });
    const { event_id } = await emit(client);
    expect(await lastAttempt(client, oldOnly.id)).toMatchObject({ status_code: 204 });
    expect(await lastAttempt(client, newOnly.id)).toMatchObject({ status_code: 204 });
    expect(handled.filter((x) => x.event.id === event_id).map((x) => x.path).sort()).toEqual(['/new-only', '/old-only']);
  });

  it('a wrong secret is answered 400 and the handler never runs', async () => {
    team++;
    const { client } = await h.teamClient(team);
    const wh = await webhookTo(client, `${expressUrl}/wrong`);
    const { event_id } = await emit(client);
    const attempt = await lastAttempt(client, wh.id);
    expect(attempt).toMatchObject({ status_code: 400 });
    expect(JSON.parse(attempt!.response_body!)).toMatchObject({ error: { code: 'no_matching_signature' } });
    expect(attempt!.response_body).not.toContain('whsec_');
    expect(handled.some((x) => x.event.id === event_id)).toBe(false);
  });

  it('a captured delivery replayed late (stale timestamp) or with a tampered body is refused', async () => {
    team++;
    const { client } = await h.teamClient(team);
    const tap = await webhookTo(client, `${expressUrl}/tap`);
    const { event_id } = await emit(client);
    await lastAttempt(client, tap.id);
    const delivery = captured.find((c) => c.body.toString().includes(event_id))!;
    const replay = (path: string, body: Buffer | string) =>
      fetch(`${expressUrl}${path}`, {
        method: 'POST',
        headers: Object.fromEntries(
          Object.entries(delivery.headers).filter(([k]) => k.startsWith('webhook-') || k === 'content-type'),
        ),
        body,
      });

    const fresh = await replay('/hooks', delivery.body);
    expect(fresh.status).toBe(204);
    const tampered = await replay('/hooks', delivery.body.toString().replace('"job_id":789', '"job_id":788'));
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toMatchObject({ error: { code: 'no_matching_signature' } });

    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const stale = await replay('/short', delivery.body);
    expect(stale.status).toBe(400);
    expect(await stale.json()).toMatchObject({ error: { code: 'timestamp_too_old' } });
    expect(handled.filter((x) => x.event.id === event_id).map((x) => x.path)).toEqual(['/hooks']);
  });

  it('each of the three schemes verifies real deliveries: webhook-signature with a plain secret, X-Signature-256, X-Hub-Signature', async () => {
    team++;
    const { client } = await h.teamClient(team);
    const plain = await webhookTo(client, `${expressUrl}/plain`, PLAIN_SECRET);
    const sha256 = await webhookTo(client, `${expressUrl}/sha256-only`);
    const sha1 = await webhookTo(client, `${expressUrl}/sha1-only`);
    const wrong = await webhookTo(client, `${expressUrl}/sha256-wrong`);
    const tap = await webhookTo(client, `${expressUrl}/tap`);
    const { event_id } = await emit(client);
    for (const wh of [plain, sha256, sha1]) expect(await lastAttempt(client, wh.id)).toMatchObject({ status_code: 204 });
    const refused = await lastAttempt(client, wrong.id);
    expect(refused).toMatchObject({ status_code: 400 });
    expect(JSON.parse(refused!.response_body!)).toMatchObject({ error: { code: 'no_matching_signature' } });
    expect(handled.filter((x) => x.event.id === event_id).map((x) => x.path).sort()).toEqual(['/plain', '/sha1-only', '/sha256-only']);

    // The captured delivery with a tampered body, replayed to the legacy-only receivers.
    await lastAttempt(client, tap.id);
    const delivery = captured.find((c) => c.body.toString().includes(event_id))!;
    const tampered = delivery.body.toString().replace('"job_id":789', '"job_id":788');
    for (const [path, name] of [['/sha256-only', 'x-signature-256'], ['/sha1-only', 'x-hub-signature']] as const) {
      const headers = { 'content-type': 'application/json', [name]: delivery.headers[name]! };
      expect((await fetch(`${expressUrl}${path}`, { method: 'POST', headers, body: delivery.body })).status).toBe(204);
      const res = await fetch(`${expressUrl}${path}`, { method: 'POST', headers, body: tampered });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'no_matching_signature' } });
    }
  });

  it('a request with no signature headers is 400 missing_headers', async () => {
    const res = await fetch(`${nodeUrl}/`, { method: 'POST', body: '{"id":"evt_x"}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'missing_headers' } });
  });
});

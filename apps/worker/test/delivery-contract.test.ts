import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { verify as verifyHubSignature } from '@octokit/webhooks-methods';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createHmac } from 'node:crypto';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { HOOKLANE_VERSION } from '../src/version.js';
import { attemptLog, createWorkerTestEnv, seedDelivery, waitForFinished, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type ReceivedRequest, type Receiver } from './receiver.js';

let env: WorkerTestEnv;
let worker: TestWorker;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWorkerTestEnv('wcontract');
  worker = await startTestWorker({ databaseUrl: env.database.url, prefix: env.prefix });
  const failuresLeft = new Map<string, number>([['/flaky', 2]]);
  receiver = await startReceiver((req, res) => {
    const left = failuresLeft.get(req.path) ?? 0;
    if (left > 0) {
      failuresLeft.set(req.path, left - 1);
      res.writeHead(500).end('try again');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"received":true}');
  });
});

afterAll(async () => {
  await worker?.close();
  await receiver?.close();
  await env?.close();
});

function header(req: ReceivedRequest, name: string): string {
  const value = req.headers[name.toLowerCase()];
  if (typeof value !== 'string') throw new Error(`header ${name} missing`);
  return value;
}

function standardHeaders(req: ReceivedRequest): Record<string, string> {
  return {
    'webhook-id': header(req, 'webhook-id'),
    'webhook-timestamp': header(req, 'webhook-timestamp'),
    'webhook-signature': header(req, 'webhook-signature'),
  };
}

describe('what a receiver gets', () => {
  it('sends every contract header, verifiable signatures and identical body bytes on each attempt', async () => {
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/flaky`,
      webhook: { retriesCount: 3, retriesDelay: 0, headers: { 'X-Api-Key': 'receiver-token', Authorization: 'Bearer abc' } },
    });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('succeeded');
    expect(delivery.attempts).toBe(3);
    expect(delivery.lastStatusCode).toBe(200);

    const requests = receiver.to('/flaky');
    expect(requests).toHaveLength(3);
    const firstBody = requests[0]!.body;
    for (const [index, req] of requests.entries()) {
      expect(req.method).toBe('POST');
      expect(req.body.equals(firstBody)).toBe(true);
      expect(header(req, 'content-type')).toBe('application/json');
      expect(header(req, 'user-agent')).toBe(`Hooklane/${HOOKLANE_VERSION}`);
      expect(header(req, 'webhook-id')).toBe(seeded.eventId);
      expect(Math.abs(Number(header(req, 'webhook-timestamp')) - Date.now() / 1000)).toBeLessThan(30);
      expect(header(req, 'x-webhook-event')).toBe('labeling_job.completed');
      expect(header(req, 'x-webhook-delivery')).toBe(seeded.deliveryId);
      expect(header(req, 'x-webhook-attempt')).toBe(String(index + 1));
      expect(header(req, 'x-api-key')).toBe('receiver-token');
      expect(header(req, 'authorization')).toBe('Bearer abc');

      // Standard Webhooks, as Svix receivers check it.
      expect(() => new StandardWebhook(seeded.secret).verify(req.body.toString('utf8'), standardHeaders(req))).not.toThrow();
      // CVAT / GitHub style, as Octokit checks it.
      await expect(verifyHubSignature(seeded.secret, req.body.toString('utf8'), header(req, 'x-signature-256'))).resolves.toBe(true);
      // Labelbox style.
      const sha1 = createHmac('sha1', seeded.secret).update(req.body).digest('hex');
      expect(header(req, 'x-hub-signature')).toBe(`sha1=${sha1}`);
    }

    expect(JSON.parse(firstBody.toString('utf8'))).toEqual({
      id: seeded.eventId,
      event: 'labeling_job.completed',
      timestamp: '2026-02-06T12:34:56.789Z',
      team_id: 7,
      project_id: 456,
      webhook_id: seeded.webhookId,
      data: { job_id: 42, name: 'résumé ✓' },
      sender: { id: 1, login: 'alice' },
    });
    expect(Object.keys(JSON.parse(firstBody.toString('utf8')))).toEqual([
      'id', 'event', 'timestamp', 'team_id', 'project_id', 'webhook_id', 'data', 'sender',
    ]);

    const log = await attemptLog(env.db, seeded.deliveryId);
    expect(log.map((a) => [a.attempt, a.statusCode, a.responseBody, a.error])).toEqual([
      [1, 500, 'try again', null],
      [2, 500, 'try again', null],
      [3, 200, '{"received":true}', null],
    ]);
    for (const a of log) expect(a.durationMs).toBeGreaterThanOrEqual(0);

    const webhook = await env.db.webhook.findUniqueOrThrow({ where: { id: seeded.webhookId } });
    expect(webhook.lastStatus).toBe(200);
    expect(webhook.lastDeliveryAt).not.toBeNull();
    expect(webhook.failingSince).toBeNull();
  });

  it('signs with both secrets during a rotation, new first, and either verifies', async () => {
    const oldSecret = 'whsec_' + Buffer.from('old-secret-bytes-0123456789ab').toString('base64');
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/rotation`,
      webhook: { previousSecret: oldSecret, previousSecretExpiresAt: new Date(Date.now() + 3_600_000) },
    });
    await waitForFinished(env.db, seeded.deliveryId);
    const [req] = receiver.to('/rotation');
    expect(req).toBeDefined();
    const signatures = header(req!, 'webhook-signature').split(' ');
    expect(signatures).toHaveLength(2);
    const body = req!.body.toString('utf8');
    expect(() => new StandardWebhook(seeded.secret).verify(body, standardHeaders(req!))).not.toThrow();
    expect(() => new StandardWebhook(oldSecret).verify(body, standardHeaders(req!))).not.toThrow();
    // New secret first: the first signature alone verifies with it.
    const firstOnly = { ...standardHeaders(req!), 'webhook-signature': signatures[0]! };
    expect(() => new StandardWebhook(seeded.secret).verify(body, firstOnly)).not.toThrow();
    expect(() => new StandardWebhook(oldSecret).verify(body, firstOnly)).toThrow();
    // The body signatures use the current secret only.
    await expect(verifyHubSignature(seeded.secret, body, header(req!, 'x-signature-256'))).resolves.toBe(true);
  });

  it('sends one signature once the rotation window has passed', async () => {
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/rotated`,
      webhook: { previousSecret: 'whsec_b2xkLW9sZC1vbGQ=', previousSecretExpiresAt: new Date(Date.now() - 1000) },
    });
    await waitForFinished(env.db, seeded.deliveryId);
    const [req] = receiver.to('/rotated');
    expect(header(req!, 'webhook-signature').split(' ')).toHaveLength(1);
    expect(() => new StandardWebhook(seeded.secret).verify(req!.body.toString('utf8'), standardHeaders(req!))).not.toThrow();
  });

  it('counts attempts and completions in the worker metrics', async () => {
    const text = await worker.metrics.registry.metrics();
    expect(text).toMatch(/webhook_delivery_attempts_total\{outcome="failure",status_class="5xx"\} 2/);
    expect(text).toMatch(/webhook_delivery_attempts_total\{outcome="success",status_class="2xx"\} 3/);
    expect(text).toMatch(/webhook_deliveries_completed_total\{result="succeeded"\} 3/);
    expect(text).toMatch(/webhook_delivery_latency_seconds_count 3/);
    expect(text).toMatch(/webhook_delivery_attempt_duration_seconds_count 5/);
  });
});

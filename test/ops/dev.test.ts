import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSignatureHeaders } from '@hooklane/core';
import { describeDelivery, startDevReceiver, type DevReceiver } from '../../scripts/dev-receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../support/redis.js';
import { freePort } from '../support/free-port.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SECRET = 'whsec_ZGV2LXJlY2VpdmVyLXRlc3Qtc2VjcmV0';

function signed(body: string, secret = SECRET, extra: Record<string, string> = {}) {
  const headers = buildSignatureHeaders({
    eventId: 'evt_test',
    timestampSeconds: Math.floor(Date.now() / 1000),
    body,
    secret,
  });
  return {
    ...headers,
    'Content-Type': 'application/json',
    'X-Webhook-Event': 'ping',
    'X-Webhook-Delivery': 'dlv_test',
    'X-Webhook-Attempt': '2',
    ...extra,
  };
}

describe('dev receiver', () => {
  let receiver: DevReceiver;
  const printed: string[] = [];

  beforeAll(async () => {
    receiver = await startDevReceiver({ port: 0, secret: SECRET, print: (text) => printed.push(text) });
  });
  afterAll(() => receiver.close());

  it('prints a delivery with its ids and every signature verified', async () => {
    const body = JSON.stringify({ id: 'evt_test', event: 'ping', data: {} });
    const res = await fetch(`http://127.0.0.1:${receiver.port}/hooks`, { method: 'POST', headers: signed(body), body });
    expect(res.status).toBe(200);
    const text = printed.at(-1)!;
    expect(text).toContain('POST /hooks  ping  attempt 2');
    expect(text).toContain('x-webhook-delivery: dlv_test');
    expect(text).toContain('webhook-signature verified, X-Signature-256 verified, X-Hub-Signature verified');
    expect(text).toContain(body);
  });

  it('says FAILED for a delivery signed with another secret', () => {
    const body = '{"a":1}';
    const text = describeDelivery('POST', '/hooks', lower(signed(body, 'whsec_b3RoZXItc2VjcmV0LXZhbHVl')), Buffer.from(body), SECRET);
    expect(text).toContain('webhook-signature FAILED, X-Signature-256 FAILED, X-Hub-Signature FAILED');
  });

  it('names custom headers without printing their values', () => {
    const body = '{}';
    const text = describeDelivery('POST', '/hooks', lower(signed(body, SECRET, { 'X-Api-Key': 'receiver-cred-123' })), Buffer.from(body), SECRET);
    expect(text).toContain('x-api-key');
    expect(text).not.toContain('receiver-cred-123');
  });

  it('answers the status asked for in the query, so retries can be tried', async () => {
    const res = await fetch(`http://127.0.0.1:${receiver.port}/hooks?status=503`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
    expect(printed.at(-1)).toContain('signatures with DEV_WEBHOOK_SECRET: webhook-signature FAILED');
  });
});

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

// What a newcomer sees: `npm run dev` (run here as its script, on a test database and free
// ports) ends with a signed delivery printed by the receiver, with no copy-pasting.
describe('npm run dev', () => {
  let database: TestDatabase;
  const prefix = randomQueuePrefix('devrun');
  let dev: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    database = await createTestDatabase('devrun');
    for (const name of ['api', 'metrics', 'receiver']) ports[name] = await freePort();
    const { NODE_OPTIONS: _ignored, ...parentEnv } = process.env;
    dev = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'scripts/dev.ts'], {
      cwd: root,
      env: {
        ...parentEnv,
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        PORT: String(ports.api),
        METRICS_PORT: String(ports.metrics),
        DEV_RECEIVER_PORT: String(ports.receiver),
        HOST: '127.0.0.1',
        // Each worker's PostgreSQL pool grows with its concurrency; keep this run's small.
        WORKER_CONCURRENCY: '5',
        ADMIN_TOKEN: '',
        DEV_DEMO: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dev.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    dev.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    exited = new Promise((resolve) => dev.once('exit', (code) => resolve(code)));
  });

  afterAll(async () => {
    if (dev.exitCode === null && dev.signalCode === null) {
      dev.kill('SIGTERM');
      await exited;
    }
    await deletePrefix(prefix);
    await database.drop();
  });

  it(
    'migrates, starts everything, and shows a verified delivery at the receiver',
    async () => {
      const deadline = Date.now() + 90_000;
      // The worker logs its attempt once it is recorded, a moment after the receiver has printed it.
      const done = () => /\[receiver\] .*webhook-signature verified/.test(output) && /\[worker\] .*delivery attempt/.test(output);
      while (!done() && Date.now() < deadline) {
        if (dev.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(output).toMatch(/\[receiver\] POST \/hooks  labeling_job\.completed  attempt 1/);
      expect(output).toContain('webhook-signature verified, X-Signature-256 verified, X-Hub-Signature verified');
      expect(output).toContain('admin token  dev-admin-token');
      expect(output).toMatch(new RegExp(`dashboard for team \\d+ \\(portal session, 24 h\\): http://127\\.0\\.0\\.1:${ports.api}/portal#token=hlp_`));
      expect(output).toMatch(/\[worker\] .*delivery attempt/);
      // The printed curls point at this run's API and receiver.
      expect(output).toContain(`export HOOKLANE=http://127.0.0.1:${ports.api} ADMIN_TOKEN=dev-admin-token`);
      expect(output).toContain(`"url":"http://127.0.0.1:${ports.receiver}/hooks"`);
      // Next to the curls, the same steps with the TypeScript SDK (packages/sdk/test/examples.test.ts runs them).
      expect(output).toContain(`  import { Hooklane } from '@hooklane/sdk';`);
      expect(output).toContain(`  const hl = new Hooklane({ baseUrl: 'http://127.0.0.1:${ports.api}', token: process.env.KEY! });`);
      expect(output).toMatch(/^ {2}const \{ event_id \} = await hl\.events\.emit\(\{"event":"labeling_job\.completed"/m);
    },
    120_000,
  );

  it('stops every child on SIGTERM', async () => {
    dev.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/\[api\] .*api stopped/);
    expect(output).toMatch(/\[worker\] .*worker stopped/);
    for (const port of [ports.api, ports.metrics, ports.receiver]) {
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }
  });
});


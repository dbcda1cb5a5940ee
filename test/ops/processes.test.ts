import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../support/redis.js';
import { freePort } from '../support/free-port.js';

// The processes exactly as operators run them (`npm run start:api` / `start:worker`, here
// from sources through tsx): real ports, real signals, real logs on stdout.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADMIN_TOKEN = 'ops-admin-token-5b1f0c9e2d';
const SECRET = 'whsec_b3BzLXRlc3Qtc2VjcmV0LXZhbHVlLTAxMjM0';
const CUSTOM_HEADER_VALUE = 'custom-credential-7f3a9c1e55';
// How long the receiver holds a request at /slow (finishes within the grace period) and at
// /slower (outlasts a short grace period but not the webhook's 10 s default timeout).
const SLOW_MS = 2_000;
const SLOWER_MS = 8_000;

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startProcess(entry: string, env: Record<string, string>): Proc {
  // The jest runner's NODE_OPTIONS (vm modules) are not what production runs with.
  const { NODE_OPTIONS: _ignored, ...parentEnv } = process.env;
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', entry], {
    cwd: root,
    env: { ...parentEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

describe('API and worker processes', () => {
  let database: TestDatabase;
  const prefix = randomQueuePrefix('procs');
  let apiPort: number;
  let api: Proc;
  const workers: Proc[] = [];
  let receiver: Server;
  let receiverUrl: string;
  // Delivery ids the slow receiver has started answering, and those it finished answering.
  const started = new Set<string>();
  const answered = new Set<string>();
  let teamKey: string;

  const apiUrl = (path: string) => `http://127.0.0.1:${apiPort}${path}`;
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(apiUrl(path), {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  let workerEnv: Record<string, string>;
  async function startWorker(env: Record<string, string> = {}): Promise<{ proc: Proc; metricsPort: number }> {
    const metricsPort = await freePort();
    const proc = startProcess('apps/worker/src/main.ts', { ...workerEnv, ...env, METRICS_PORT: String(metricsPort) });
    workers.push(proc);
    await waitUntil('the worker /healthz', async () => (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).ok);
    return { proc, metricsPort };
  }

  async function emit(): Promise<string[]> {
    const res = await call('POST', '/v1/events', teamKey, {
      event: 'labeling_job.completed',
      team_id: 41,
      data: {
        job_id: 1,
        job_name: 'ops',
        project_id: 2,
        dataset_id: 3,
        status: 'completed',
        completed_by: { user_id: 4, user_login: 'ops' },
      },
    });
    expect(res.status).toBe(202);
    const event = await call('GET', `/v1/events/${res.body.event_id}`, teamKey);
    return (event.body.deliveries as { id: string }[]).map((d) => d.id);
  }

  const deliveryStatus = async (id: string) => (await call('GET', `/v1/deliveries/${id}`, teamKey)).body.status as string;

  beforeAll(async () => {
    database = await createTestDatabase('procs');
    receiver = createServer((req, res) => {
      const id = String(req.headers['x-webhook-delivery'] ?? '');
      req.resume();
      started.add(id);
      const delay = req.url?.startsWith('/slower') ? SLOWER_MS : req.url?.startsWith('/slow') ? SLOW_MS : 0;
      res.on('finish', () => answered.add(id));
      setTimeout(() => res.end('ok'), delay);
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

    apiPort = await freePort();
    const common = {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      ADMIN_TOKEN,
      ALLOW_PRIVATE_TARGETS: 'true',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
    };
    workerEnv = { ...common, SHUTDOWN_GRACE_MS: '15000', SWEEPER_INTERVAL_MS: '1000', WORKER_CONCURRENCY: '5' };
    api = startProcess('apps/api/src/main.ts', { ...common, PORT: String(apiPort) });
    await waitUntil('the API /readyz', async () => (await fetch(apiUrl('/readyz'))).status === 200);

    const key = await call('POST', '/v1/api-keys', ADMIN_TOKEN, { team_id: 41 });
    expect(key.status).toBe(201);
    teamKey = key.body.key;
  });

  afterAll(async () => {
    for (const proc of [api, ...workers]) {
      if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
    }
    await new Promise((resolve) => receiver?.close(resolve));
    receiver?.closeAllConnections();
    await deletePrefix(prefix);
    if (database) await database.drop();
  });

  describe('the API process', () => {
    it('answers /healthz and /readyz', async () => {
      const health = await fetch(apiUrl('/healthz'));
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(apiUrl('/readyz'));
      expect(ready.status).toBe(200);
    });

    it('serves the contract metrics with the default process metrics', async () => {
      const res = await fetch(apiUrl('/metrics'));
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const name of ['webhook_events_received_total', 'webhook_deliveries_created_total', 'webhook_queue_jobs']) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      expect(text).toContain('webhook_queue_jobs{state="waiting"}');
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).toContain('nodejs_eventloop_lag_seconds');
    });
  });

  describe('a worker process', () => {
    let worker: { proc: Proc; metricsPort: number };
    beforeAll(async () => {
      worker = await startWorker();
    });

    it('answers /healthz and serves the worker series on METRICS_PORT', async () => {
      const health = await fetch(`http://127.0.0.1:${worker.metricsPort}/healthz`);
      expect(health.status).toBe(200);
      const text = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
      for (const name of [
        'webhook_delivery_attempts_total',
        'webhook_deliveries_completed_total',
        'webhook_delivery_attempt_duration_seconds',
        'webhook_delivery_latency_seconds',
        'webhook_queue_jobs',
      ]) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      expect(text).toContain('process_resident_memory_bytes');
    });

    it('delivers, counts it, and logs the attempt with ids but no secret, key or custom header value', async () => {
      const webhook = await call('POST', '/v1/webhooks', teamKey, {
        team_id: 41,
        url: `${receiverUrl}/fast`,
        events: ['labeling_job.completed'],
        secret: SECRET,
        headers: { 'X-Custom-Auth': CUSTOM_HEADER_VALUE },
      });
      expect(webhook.status).toBe(201);
      const [deliveryId] = await emit();
      expect(deliveryId).toBeDefined();
      await waitUntil('the delivery to succeed', async () => (await deliveryStatus(deliveryId!)) === 'succeeded');

      const metrics = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/webhook_delivery_attempts_total\{outcome="success",status_class="2xx"\} [1-9]/);
      expect(metrics).toMatch(/webhook_deliveries_completed_total\{result="succeeded"\} [1-9]/);
      const apiMetrics = await (await fetch(apiUrl('/metrics'))).text();
      expect(apiMetrics).toMatch(/webhook_events_received_total\{event="labeling_job.completed"\} [1-9]/);

      const attemptLines = worker.proc
        .output()
        .split('\n')
        .filter((line) => line.includes(deliveryId!));
      expect(attemptLines.length).toBeGreaterThan(0);
      const attemptLine = JSON.parse(attemptLines.find((l) => l.includes('"status_code":200')) ?? attemptLines[0]!);
      expect(attemptLine).toMatchObject({ delivery_id: deliveryId, webhook_id: webhook.body.id });
      expect(attemptLine.event_id).toMatch(/^evt_/);

      // Nothing either process printed may carry a credential.
      for (const output of [worker.proc.output(), api.output()]) {
        expect(output).not.toContain(SECRET);
        expect(output).not.toContain(SECRET.slice('whsec_'.length));
        expect(output).not.toContain(CUSTOM_HEADER_VALUE);
        expect(output).not.toContain(teamKey);
        expect(output).not.toContain(ADMIN_TOKEN);
      }

      await call('DELETE', `/v1/webhooks/${webhook.body.id}`, teamKey);
    });

    let slowWebhookId: string | undefined;
    /** Three deliveries held by the receiver at `path`; the webhook of any earlier call is removed first. */
    async function slowDeliveriesInFlight(path: '/slow' | '/slower'): Promise<string[]> {
      if (slowWebhookId) await call('DELETE', `/v1/webhooks/${slowWebhookId}`, teamKey);
      const webhook = await call('POST', '/v1/webhooks', teamKey, {
        team_id: 41,
        url: `${receiverUrl}${path}`,
        events: ['labeling_job.completed'],
        secret: SECRET,
      });
      expect(webhook.status).toBe(201);
      slowWebhookId = webhook.body.id;
      const ids = [...(await emit()), ...(await emit()), ...(await emit())];
      expect(ids).toHaveLength(3);
      await waitUntil('three attempts in flight at the slow receiver', async () => ids.every((id) => started.has(id)));
      return ids;
    }

    async function expectAllSucceeded(ids: string[]): Promise<void> {
      await waitUntil(
        'every in-flight delivery to succeed',
        async () => (await Promise.all(ids.map(deliveryStatus))).every((status) => status === 'succeeded'),
        100_000,
      );
      expect(ids.every((id) => answered.has(id))).toBe(true);
    }

    it(
      'on SIGTERM with attempts in flight finishes them within the grace period and exits 0',
      async () => {
        const ids = await slowDeliveriesInFlight('/slow');
        worker.proc.child.kill('SIGTERM');
        // The receiver holds each request for seconds, so these are mid-attempt at the signal.
        expect(ids.filter((id) => !answered.has(id)).length).toBeGreaterThan(0);
        expect(await worker.proc.exited).toBe(0);
        expect(worker.proc.output()).toContain('worker stopped');

        // Finished before exiting: no other worker is running to do it for them.
        expect(await Promise.all(ids.map(deliveryStatus))).toEqual(['succeeded', 'succeeded', 'succeeded']);
        await expectAllSucceeded(ids);
      },
      60_000,
    );

    it(
      'when the grace period is too short it hands the attempts back, exits 0, and another worker delivers them',
      async () => {
        const impatient = await startWorker({ SHUTDOWN_GRACE_MS: '200' });
        const ids = await slowDeliveriesInFlight('/slower');
        impatient.proc.child.kill('SIGTERM');
        expect(await impatient.proc.exited).toBe(0);
        // It did not wait out the receiver: the grace period bounds how long a stop takes.
        expect(ids.filter((id) => answered.has(id))).toEqual([]);

        await startWorker();
        await expectAllSucceeded(ids);
      },
      150_000,
    );
  });

  it('the API exits 0 on SIGTERM', async () => {
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(api.output()).toContain('api stopped');
  });
});


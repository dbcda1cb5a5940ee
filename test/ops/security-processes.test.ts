import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../support/redis.js';
import { freePort } from '../support/free-port.js';

// Issue 12, as wired in the entry points (apps/api/src/main.ts, apps/worker/src/main.ts), not
// only in the modules they call: the API's 30 s slow-client limit at its default, and
// METRICS_HOST / METRICS_TOKEN on both processes. Real processes, raw sockets.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADMIN = 'security-processes-admin-9d41c2';
const SCRAPE = 'security-processes-scrape-token';
// 127.0.0.0/8 is all loopback on Linux: a listener bound to 127.0.0.2 is not reachable on 127.0.0.1.
const PRIVATE_HOST = '127.0.0.2';
const children: ChildProcess[] = [];
let database: TestDatabase;
const prefix = randomQueuePrefix('secprocs');
let apiPort: number;
let apiMetricsPort: number;
let workerMetricsPort: number;

function start(entry: string, env: Record<string, string>): void {
  const { NODE_OPTIONS: _ignored, ...parentEnv } = process.env;
  children.push(spawn(process.execPath, ['--conditions=development', '--import', 'tsx', entry], { cwd: root, env: { ...parentEnv, ...env }, stdio: 'ignore' }));
}

/** Waits until one of `urls` answers 2xx (either address, so a wrong bind fails the test, not the setup). */
async function waitFor(...urls: string[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    for (const url of urls) if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${urls.join(' or ')} did not answer`);
}

const status = (url: string, token?: string) => fetch(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {}).then((r) => r.status);
const refused = (url: string) => fetch(url).then(() => false, () => true);

beforeAll(async () => {
  database = await createTestDatabase('secprocs');
  [apiPort, apiMetricsPort, workerMetricsPort] = [await freePort(), await freePort(), await freePort()];
  const common = {
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    ADMIN_TOKEN: ADMIN,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    METRICS_HOST: PRIVATE_HOST,
    METRICS_TOKEN: SCRAPE,
  };
  start('apps/api/src/main.ts', { ...common, PORT: String(apiPort), METRICS_PORT: String(apiMetricsPort) });
  start('apps/worker/src/main.ts', { ...common, METRICS_PORT: String(workerMetricsPort) });
  await waitFor(`http://127.0.0.1:${apiPort}/healthz`);
  await waitFor(`http://${PRIVATE_HOST}:${workerMetricsPort}/healthz`, `http://127.0.0.1:${workerMetricsPort}/healthz`);
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => once(c, 'exit')));
  await deletePrefix(prefix);
  await database?.drop();
});

/** Writes `head` on a raw socket (then one byte every 500 ms while `trickle`); resolves when the server closes it. */
function slowRequest(head: string, trickle: boolean): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(apiPort, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error('connection still open after 45 s'));
    }, 45_000);
    socket.on('connect', () => {
      socket.write(head);
      if (trickle) timer = setInterval(() => socket.writable && socket.write(' '), 500);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ answer: Buffer.concat(chunks).toString('latin1'), closedAfterMs: Date.now() - started });
    });
  });
}

describe('the API process', () => {
  it('answers 408 and closes a trickled body and unfinished headers at 30 s (the default limit)', async () => {
    const [body, headers] = await Promise.all([
      slowRequest(
        `POST /v1/events HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Length: 1000000\r\n\r\n{`,
        true,
      ),
      slowRequest('GET /healthz HTTP/1.1\r\nHost: api\r\nX-Slow: ', false),
    ]);
    for (const outcome of [body, headers]) {
      expect(outcome.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(29_000);
      expect(outcome.closedAfterMs).toBeLessThan(33_000);
    }
  }, 60_000);

  it('with METRICS_HOST and METRICS_TOKEN, serves /metrics only on that address, and only with the token', async () => {
    expect(await status(`http://127.0.0.1:${apiPort}/metrics`, SCRAPE)).toBe(404);
    expect(await status(`http://${PRIVATE_HOST}:${apiMetricsPort}/metrics`)).toBe(401);
    expect(await status(`http://${PRIVATE_HOST}:${apiMetricsPort}/metrics`, SCRAPE)).toBe(200);
    expect(await refused(`http://127.0.0.1:${apiMetricsPort}/metrics`)).toBe(true);
  });
});

describe('a worker process', () => {
  it('with METRICS_HOST and METRICS_TOKEN, binds /metrics to that address and asks for the token; /healthz stays open', async () => {
    expect(await status(`http://${PRIVATE_HOST}:${workerMetricsPort}/metrics`)).toBe(401);
    expect(await status(`http://${PRIVATE_HOST}:${workerMetricsPort}/metrics`, SCRAPE)).toBe(200);
    expect(await status(`http://${PRIVATE_HOST}:${workerMetricsPort}/healthz`)).toBe(200);
    expect(await refused(`http://127.0.0.1:${workerMetricsPort}/healthz`)).toBe(true);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { attemptLog, createWorkerTestEnv, seedDelivery, type SeededDelivery, type WorkerTestEnv } from '../../apps/worker/test/fixtures.js';
import { freePort } from '../support/redis-server.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

/**
 * Chaos 4: a receiver is down (its port closed) when deliveries start, and comes back on the
 * same port ~5 s later. With retries_count 5 and retries_delay 2 the retries get through once
 * it is back, and each delivery's attempt log tells the story: refused connections, then a 2xx.
 */

const DELIVERIES = 10;
const DOWN_MS = 5_000;
const RETRIES_DELAY_S = 2;

let env: WorkerTestEnv;
let worker: TestWorker;
let server: Server | undefined;
let port: number;
const received = new Map<string, number>();

beforeAll(async () => {
  env = await createWorkerTestEnv('chaosreceiver');
  worker = await startTestWorker({ databaseUrl: env.database.url, prefix: env.prefix });
  port = await freePort();
});

afterAll(async () => {
  await worker?.close();
  server?.closeAllConnections();
  server?.close();
  await env?.close();
});

async function startReceiverOn(fixedPort: number): Promise<Server> {
  const s = createServer((req, res) => {
    const id = String(req.headers['x-webhook-delivery']);
    received.set(id, (received.get(id) ?? 0) + 1);
    req.resume();
    req.on('end', () => res.writeHead(200).end('back'));
  });
  s.listen(fixedPort, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

describe('a receiver down for a while', () => {
  it('gets every delivery once it is back, after refused attempts that the log shows', async () => {
    const downSince = Date.now();
    const seeded: SeededDelivery[] = [];
    for (let i = 0; i < DELIVERIES; i++) {
      seeded.push(
        await seedDelivery(env, {
          url: `http://127.0.0.1:${port}/hook`,
          webhookId: seeded[0]?.webhookId,
          webhook: { retriesCount: 5, retriesDelay: RETRIES_DELAY_S },
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS - (Date.now() - downSince)));
    server = await startReceiverOn(port);
    const backAt = Date.now();

    const ids = seeded.map((s) => s.deliveryId);
    const deadline = Date.now() + 30_000;
    while ((await env.db.delivery.count({ where: { id: { in: ids }, status: 'succeeded' } })) < DELIVERIES) {
      if (Date.now() > deadline) throw new Error('deliveries did not succeed after the receiver came back');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const logs = await Promise.all(ids.map((id) => attemptLog(env.db, id)));
    const lines = logs.map((log) => log.map((a) => a.error ?? String(a.statusCode)).join(' → '));
    const lost = ids.filter((id) => !received.has(id)).length;
    const duplicated = [...received.values()].reduce((sum, n) => sum + (n - 1), 0);
    console.log(
      `receiver-down: deliveries ${DELIVERIES}, down ${backAt - downSince} ms, lost ${lost}, duplicated ${duplicated}; attempt log of the first: ${lines[0]}`,
    );

    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    for (const log of logs) {
      // Refused while the port was closed, then one success: nothing after it.
      expect(log.length).toBeGreaterThanOrEqual(2);
      expect(log.length).toBeLessThanOrEqual(6);
      const last = log.at(-1)!;
      expect(last).toMatchObject({ statusCode: 200, error: null });
      expect(last.startedAt.getTime()).toBeGreaterThanOrEqual(backAt);
      for (const failed of log.slice(0, -1)) {
        expect(failed).toMatchObject({ statusCode: null, error: 'ECONNREFUSED' });
        expect(failed.startedAt.getTime()).toBeLessThan(backAt);
      }
      // retries_delay apart.
      for (let i = 1; i < log.length; i++) {
        expect(log[i]!.startedAt.getTime() - log[i - 1]!.startedAt.getTime()).toBeGreaterThanOrEqual(RETRIES_DELAY_S * 1000 - 50);
      }
    }
  }, 60_000);
});

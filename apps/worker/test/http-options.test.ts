import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { attemptLog, createWorkerTestEnv, seedDelivery, selfSignedCertificate, waitForFinished, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

let env: WorkerTestEnv;
let worker: TestWorker;
let receiver: Receiver;
let tlsReceiver: Receiver;
let silent: Server;
let silentPort: number;
const silentSockets = new Set<Socket>();

beforeAll(async () => {
  env = await createWorkerTestEnv('whttp');
  worker = await startTestWorker({ databaseUrl: env.database.url, prefix: env.prefix });
  receiver = await startReceiver((req, res) => {
    if (req.path.startsWith('/redirect/')) {
      const status = Number(req.path.split('/')[2]);
      res.writeHead(status, { Location: '/landing' }).end('moved');
      return;
    }
    if (req.path === '/loop') {
      res.writeHead(302, { Location: '/loop' }).end();
      return;
    }
    if (req.path === '/huge') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('é'.repeat(1_000_000));
      return;
    }
    res.writeHead(200).end('landed');
  });
  tlsReceiver = await startReceiver((_req, res) => res.writeHead(200).end('secure'), selfSignedCertificate());
  // Accepts connections and never answers.
  silent = createServer((socket) => void silentSockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as AddressInfo).port;
});

afterAll(async () => {
  await worker?.close();
  await receiver?.close();
  await tlsReceiver?.close();
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent?.close(resolve));
  await env?.close();
});

describe('redirects', () => {
  it.each([301, 302, 307, 308])('follows a %i with the same POST and body', async (status) => {
    const before = receiver.to('/landing').length;
    const seeded = await seedDelivery(env, { url: `${receiver.origin}/redirect/${status}` });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('succeeded');
    expect(delivery.lastStatusCode).toBe(200);
    const [first] = receiver.to(`/redirect/${status}`);
    const landed = receiver.to('/landing').slice(before);
    expect(landed).toHaveLength(1);
    expect(landed[0]!.method).toBe('POST');
    expect(landed[0]!.body.equals(first!.body)).toBe(true);
    expect(landed[0]!.headers['webhook-signature']).toBe(first!.headers['webhook-signature']);
  });

  it('fails a 3xx when follow_redirect is false, recording the status', async () => {
    const before = receiver.to('/landing').length;
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/redirect/302`,
      webhook: { followRedirect: false },
    });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('failed');
    expect(delivery.lastStatusCode).toBe(302);
    const [attempt] = await attemptLog(env.db, seeded.deliveryId);
    expect(attempt!.statusCode).toBe(302);
    expect(attempt!.error).toBe('redirect not followed');
    expect(receiver.to('/landing').length).toBe(before);
  });

  it('gives up after 5 redirects', async () => {
    const seeded = await seedDelivery(env, { url: `${receiver.origin}/loop` });
    await waitForFinished(env.db, seeded.deliveryId);
    const [attempt] = await attemptLog(env.db, seeded.deliveryId);
    expect(attempt!.error).toBe('too many redirects');
    expect(receiver.to('/loop')).toHaveLength(6);
  });
});

describe('TLS', () => {
  it('refuses a self-signed certificate when reject_unauthorized is true', async () => {
    const seeded = await seedDelivery(env, { url: `${tlsReceiver.origin}/hook` });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('failed');
    const [attempt] = await attemptLog(env.db, seeded.deliveryId);
    expect(attempt!.statusCode).toBeNull();
    expect(attempt!.error).toMatch(/self-signed/);
    expect(tlsReceiver.requests).toHaveLength(0);
  });

  it('accepts it when reject_unauthorized is false', async () => {
    const seeded = await seedDelivery(env, { url: `${tlsReceiver.origin}/hook`, webhook: { rejectUnauthorized: false } });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('succeeded');
    const [attempt] = await attemptLog(env.db, seeded.deliveryId);
    expect(attempt!.responseBody).toBe('secure');
    expect(tlsReceiver.requests).toHaveLength(1);
  });
});

describe('failures without an answer', () => {
  it('records a timeout when the receiver never answers', async () => {
    const seeded = await seedDelivery(env, { url: `http://127.0.0.1:${silentPort}/hook`, webhook: { timeout: 1 } });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('failed');
    const [attempt] = await attemptLog(env.db, seeded.deliveryId);
    expect(attempt!.error).toBe('timeout');
    expect(attempt!.statusCode).toBeNull();
    expect(attempt!.durationMs).toBeGreaterThanOrEqual(950);
  });

  it('records ECONNREFUSED when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const seeded = await seedDelivery(env, { url: `http://127.0.0.1:${port}/hook` });
    await waitForFinished(env.db, seeded.deliveryId);
    const [attempt] = await attemptLog(env.db, seeded.deliveryId);
    expect(attempt!.error).toBe('ECONNREFUSED');
  });

  it('keeps only the first 4 KiB of a huge answer', async () => {
    const seeded = await seedDelivery(env, { url: `${receiver.origin}/huge` });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('succeeded');
    const [attempt] = await attemptLog(env.db, seeded.deliveryId);
    expect(Buffer.byteLength(attempt!.responseBody!, 'utf8')).toBeLessThanOrEqual(4096 + 3);
    expect(attempt!.responseBody!.startsWith('éééé')).toBe(true);
  });
});

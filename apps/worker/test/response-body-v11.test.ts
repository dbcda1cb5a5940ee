import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { attemptLog, createWorkerTestEnv, seedDelivery, waitForFinished, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

/** The attempt log keeps at most 4 KiB of the answer, counted in bytes of what is stored (not characters after lossy decoding). */

const ANSWERS: Record<string, Buffer> = {
  '/invalid-utf8': Buffer.alloc(5000, 0xff),
  '/nul-bytes': Buffer.alloc(5000, 0),
  '/cut-mid-character': Buffer.from('a' + 'é'.repeat(3000), 'utf8'),
  '/ascii': Buffer.from('x'.repeat(10_000), 'utf8'),
  '/emoji': Buffer.from('😀'.repeat(2000), 'utf8'),
};

let env: WorkerTestEnv;
let worker: TestWorker;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWorkerTestEnv('wbodyv11');
  worker = await startTestWorker({ databaseUrl: env.database.url, prefix: env.prefix });
  receiver = await startReceiver((req, res) => res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(ANSWERS[req.path]));
});

afterAll(async () => {
  await worker?.close();
  await receiver?.close();
  await env?.close();
});

async function storedBody(path: string): Promise<string> {
  const seeded = await seedDelivery(env, { url: `${receiver.origin}${path}` });
  await waitForFinished(env.db, seeded.deliveryId);
  const [attempt] = await attemptLog(env.db, seeded.deliveryId);
  return attempt!.responseBody!;
}

describe('stored response body', () => {
  it.each(Object.keys(ANSWERS))('%s: at most 4096 bytes stored', async (path) => {
    const body = await storedBody(path);
    expect(Buffer.byteLength(body, 'utf8')).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(body, 'utf8')).toBeGreaterThan(4096 - 4);
  });

  it('keeps the first 4 KiB as they came, without a half character at the end', async () => {
    expect(await storedBody('/ascii')).toBe('x'.repeat(4096));
    const cut = await storedBody('/cut-mid-character');
    expect(cut).toBe('a' + 'é'.repeat(2047));
    expect(await storedBody('/emoji')).toBe('😀'.repeat(1024));
  });
});

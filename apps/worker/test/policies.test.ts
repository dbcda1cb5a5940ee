import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { pino } from 'pino';
import { createDefaultPolicies, type AttemptOutcome, type DeliveryPolicies } from '../src/attempt-policies.js';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { attemptLog, createWorkerTestEnv, eventually, seedDelivery, waitForFinished, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

let env: WorkerTestEnv;
let worker: TestWorker;
let receiver: Receiver;
const asked = new Map<string, number>();
const outcomes: AttemptOutcome[] = [];
const released: string[] = [];

beforeAll(async () => {
  env = await createWorkerTestEnv('wpolicies');
  const defaults = createDefaultPolicies({ db: env.db, logger: pino({ level: 'silent' }), autoDisableAfterMs: 60_000 });
  // Holds back the first try of every delivery, as a rate limit or in-flight cap would.
  const policies: DeliveryPolicies = {
    async admit(record) {
      const n = (asked.get(record.delivery.id) ?? 0) + 1;
      asked.set(record.delivery.id, n);
      if (n === 1) return { go: false, retryInMs: 300 };
      return { go: true, release: () => void released.push(record.delivery.id) };
    },
    async afterAttempt(outcome) {
      outcomes.push(outcome);
      await defaults.afterAttempt(outcome);
    },
  };
  worker = await startTestWorker({ databaseUrl: env.database.url, prefix: env.prefix, policies });
  receiver = await startReceiver((req, res) => res.writeHead(req.path === '/down' ? 503 : 200).end());
});

afterAll(async () => {
  await worker?.close();
  await receiver?.close();
  await env?.close();
});

describe('per-webhook policy seams', () => {
  it('delays an attempt the policy holds back, without failing or counting it', async () => {
    const seeded = await seedDelivery(env, { url: `${receiver.origin}/held` });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('succeeded');
    expect(delivery.attempts).toBe(1);
    expect(asked.get(seeded.deliveryId)).toBe(2);
    expect(released).toContain(seeded.deliveryId);
    expect(receiver.to('/held')).toHaveLength(1);
    expect(await attemptLog(env.db, seeded.deliveryId)).toHaveLength(1);
  });

  it('turns a webhook off once every attempt has failed for longer than AUTO_DISABLE_AFTER_MS', async () => {
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/down`,
      webhook: { failingSince: new Date(Date.now() - 120_000) },
    });
    expect((await waitForFinished(env.db, seeded.deliveryId)).status).toBe('failed');
    const webhook = await eventually(async () => {
      const w = await env.db.webhook.findUniqueOrThrow({ where: { id: seeded.webhookId } });
      return w.isActive ? undefined : w;
    });
    expect(webhook.disabledReason).toBe('failing');
    expect(outcomes.some((o) => o.record.delivery.id === seeded.deliveryId && o.result.statusCode === 503)).toBe(true);
  });
});

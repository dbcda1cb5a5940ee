import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { pino } from 'pino';
import { createDefaultPolicies, type AttemptOutcome, type DeliveryPolicies } from '../src/attempt-policies.js';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { attemptLog, createWorkerTestEnv, eventually, seedDelivery, waitForFinished, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

let env: WorkerTestEnv;
let worker: TestWorker;
let receiver: Receiver;
const outcomes: AttemptOutcome[] = [];

beforeAll(async () => {
  env = await createWorkerTestEnv('wpolicies');
  const defaults = createDefaultPolicies({ db: env.db, logger: pino({ level: 'silent' }), autoDisableAfterMs: 60_000 });
  // Sees every recorded outcome, then reacts as the defaults do.
  const policies: DeliveryPolicies = {
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

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret, newId } from '@hooklane/core';
import { createDb, type Db, type Delivery, type Prisma } from '@hooklane/db';
import { createDeliveryQueue, createRedisConnection, enqueueDeliveries, type DeliveryQueue } from '@hooklane/queue';
import type { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../../../test/support/redis.js';

export const TEAM_ID = 7;

/** A test file's own database, queue prefix and producer queue. */
export interface WorkerTestEnv {
  database: TestDatabase;
  db: Db;
  prefix: string;
  redis: Redis;
  queue: DeliveryQueue;
  close(): Promise<void>;
}

export async function createWorkerTestEnv(label: string): Promise<WorkerTestEnv> {
  const database = await createTestDatabase(label);
  const prefix = randomQueuePrefix(label);
  const db = createDb(database.url);
  const redis = createRedisConnection(TEST_REDIS_URL, 'producer');
  const queue = createDeliveryQueue({ connection: redis, prefix });
  return {
    database,
    db,
    prefix,
    redis,
    queue,
    async close() {
      await queue.close();
      await db.$disconnect();
      redis.disconnect();
      await deletePrefix(prefix);
      await database.drop();
    },
  };
}

export type WebhookOverrides = Partial<Omit<Prisma.WebhookUncheckedCreateInput, 'id' | 'teamId'>>;

export interface SeededDelivery {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  secret: string;
}

export interface SeedOptions {
  url: string;
  webhook?: WebhookOverrides;
  /** Reuse an existing webhook instead of creating one. */
  webhookId?: string;
  event?: { type?: string; data?: Prisma.InputJsonValue; timestamp?: Date; projectId?: number | null };
  isTest?: boolean;
  /** Queue attempt 1 right away (default true). */
  enqueue?: boolean;
  nextAttemptAt?: Date | null;
  createdAt?: Date;
}

/** An event, a webhook and a pending delivery, as ingest would store them. */
export async function seedDelivery(env: WorkerTestEnv, options: SeedOptions): Promise<SeededDelivery> {
  const secret = (options.webhook?.secret as string | undefined) ?? generateSecret();
  let webhookId = options.webhookId;
  if (!webhookId) {
    webhookId = newId('wh');
    await env.db.webhook.create({
      data: {
        id: webhookId,
        teamId: TEAM_ID,
        url: options.url,
        events: ['*'],
        retriesCount: 0,
        retriesDelay: 0,
        ...options.webhook,
        secret,
      },
    });
  }
  const eventId = newId('evt');
  const type = options.event?.type ?? 'labeling_job.completed';
  await env.db.event.create({
    data: {
      id: eventId,
      teamId: TEAM_ID,
      projectId: options.event?.projectId ?? 456,
      type,
      timestamp: options.event?.timestamp ?? new Date('2026-02-06T12:34:56.789Z'),
      data: options.event?.data ?? { job_id: 42, name: 'résumé ✓' },
      sender: { id: 1, login: 'alice' },
    },
  });
  const deliveryId = newId('dlv');
  await env.db.delivery.create({
    data: {
      id: deliveryId,
      teamId: TEAM_ID,
      webhookId,
      eventId,
      eventType: type,
      isTest: options.isTest ?? false,
      nextAttemptAt: options.nextAttemptAt === undefined ? new Date() : options.nextAttemptAt,
      ...(options.createdAt ? { createdAt: options.createdAt } : {}),
    },
  });
  if (options.enqueue ?? true) await enqueueDeliveries(env.queue, [{ deliveryId, attempt: 1, webhookId }]);
  return { deliveryId, webhookId, eventId, secret };
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Waits for the delivery to reach a final state (anything but pending) and returns it. */
export async function waitForFinished(db: Db, deliveryId: string, timeoutMs = 20_000): Promise<Delivery> {
  return eventually(
    async () => {
      const delivery = await db.delivery.findUnique({ where: { id: deliveryId } });
      return delivery && delivery.status !== 'pending' ? delivery : undefined;
    },
    timeoutMs,
    `delivery ${deliveryId} to finish`,
  );
}

export async function attemptLog(db: Db, deliveryId: string) {
  return db.attempt.findMany({ where: { deliveryId }, orderBy: { attempt: 'asc' } });
}

/** A self-signed certificate for CN=localhost, made with the openssl CLI in a temp dir. */
export function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'hooklane-cert-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

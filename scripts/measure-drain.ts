/**
 * How fast one worker process drains a backlog: N pending deliveries (events fanned out to
 * 10 webhooks, as ingest stores them) queued at once to a local receiver that answers 200
 * at once; the clock runs from the enqueue to the last delivery recorded as finished.
 *
 *   node --conditions=development --import tsx scripts/measure-drain.ts [count=5000]
 *
 * Env: WORKER_CONCURRENCY (default the worker's own, 50); DRAIN_NODE_ARGS (node flags for the worker). It uses its own scratch database
 * (a copy of the test template) and queue prefix, and removes both at the end.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecret, newId } from '@hooklane/core';
import { createDb } from '@hooklane/db';
import { createDeliveryQueue, createRedisConnection, enqueueDeliveries } from '@hooklane/queue';
import { createTestDatabase } from '../test/support/postgres.js';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../test/support/redis.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const count = Number(process.argv[2] ?? 5000);
const WEBHOOKS = 10;
const TEAM_ID = 1;

// The test template database (migrated once, copied per run), made by jest's global setup.
const setupModule = '../test/global-setup.mjs';
const { default: globalSetup } = (await import(setupModule)) as { default: () => Promise<void> };
await globalSetup();
const database = await createTestDatabase('drain');
const prefix = randomQueuePrefix('drain');
const db = createDb(database.url);
const redis = createRedisConnection(TEST_REDIS_URL, 'producer');
const queue = createDeliveryQueue({ connection: redis, prefix });

let received = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(200).end('ok');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

// DRAIN_NODE_ARGS passes extra node flags to the worker, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
const nodeArgs = (process.env.DRAIN_NODE_ARGS ?? '').split(' ').filter(Boolean);
const worker = spawn(process.execPath, [...nodeArgs, '--conditions=development', '--import', 'tsx', 'apps/worker/src/main.ts'], {
  cwd: root,
  env: {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    METRICS_PORT: '0',
    ALLOW_PRIVATE_TARGETS: 'true',
    LOG_LEVEL: 'info',
    ...(process.env.WORKER_CONCURRENCY ? { WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY } : {}),
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve, reject) => {
  let output = '';
  worker.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.includes('"worker started"')) resolve();
  });
  worker.once('exit', () => reject(new Error(`worker exited early:\n${output}`)));
});
// The per-attempt log lines are part of the cost measured; warnings are tallied, the rest dropped.
const warnings = new Map<string, number>();
let partial = '';
worker.stdout.removeAllListeners('data');
worker.stdout.on('data', (chunk: Buffer) => {
  const lines = (partial + chunk.toString('utf8')).split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) {
    if (!line.includes('"level":4') && !line.includes('"level":5')) continue;
    let msg = line.slice(0, 120);
    try {
      msg = (JSON.parse(line) as { msg?: string }).msg ?? msg;
    } catch {
      // not a pino line; keep its start
    }
    warnings.set(msg, (warnings.get(msg) ?? 0) + 1);
  }
});

try {
  const webhookIds = Array.from({ length: WEBHOOKS }, () => newId('wh'));
  await db.webhook.createMany({
    data: webhookIds.map((id) => ({ id, teamId: TEAM_ID, url, events: ['*'], secret: generateSecret(), retriesCount: 0 })),
  });
  const events = Math.ceil(count / WEBHOOKS);
  const deliveryIds: string[] = [];
  for (let start = 0; start < events; start += 500) {
    const eventRows = [];
    const deliveryRows = [];
    for (let i = start; i < Math.min(events, start + 500); i++) {
      const eventId = newId('evt');
      eventRows.push({ id: eventId, teamId: TEAM_ID, type: 'labeling_job.completed', timestamp: new Date(), data: { job_id: i } });
      for (const webhookId of webhookIds) {
        if (deliveryIds.length >= count) break;
        const id = newId('dlv');
        deliveryIds.push(id);
        deliveryRows.push({ id, teamId: TEAM_ID, webhookId, eventId, eventType: 'labeling_job.completed', nextAttemptAt: new Date() });
      }
    }
    await db.event.createMany({ data: eventRows });
    await db.delivery.createMany({ data: deliveryRows });
  }

  const started = performance.now();
  for (let i = 0; i < deliveryIds.length; i += 1000) {
    await enqueueDeliveries(queue, deliveryIds.slice(i, i + 1000).map((deliveryId) => ({ deliveryId, attempt: 1 })));
  }
  let done = 0;
  let lastProgress = Date.now();
  while (done < count) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await db.delivery.count({ where: { status: { not: 'pending' } } });
    if (now > done) lastProgress = Date.now();
    done = now;
    if (worker.exitCode !== null) throw new Error(`worker exited with ${worker.exitCode} after ${done} deliveries`);
    if (Date.now() - lastProgress > 60_000) {
      const stuck = await db.delivery.findMany({ where: { status: 'pending' }, take: 5, include: { attemptLog: true } });
      for (const d of stuck) {
        const state = await queue.getJobState(`${d.id}-a${d.attempts + 1}`);
        const job = await queue.getJob(`${d.id}-a${d.attempts + 1}`);
        console.error(JSON.stringify({ delivery: d, state, job: job ? { ...job.asJSON(), data: job.data } : null }));
      }
      console.error(JSON.stringify({ warnings: Object.fromEntries(warnings), received }));
      throw new Error(`no progress for a minute at ${done} deliveries`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      deliveries: count,
      seconds: Number(seconds.toFixed(2)),
      per_second: Math.round(count / seconds),
      receiver_requests: received,
      succeeded: await db.delivery.count({ where: { status: 'succeeded' } }),
      concurrency: process.env.WORKER_CONCURRENCY ?? 'default (50)',
      worker_warnings: Object.fromEntries(warnings),
    }),
  );
} finally {
  worker.kill('SIGTERM');
  await new Promise((resolve) => worker.once('exit', resolve));
  receiver.close();
  await queue.close();
  await db.$disconnect();
  redis.disconnect();
  await deletePrefix(prefix);
  await database.drop();
}

/**
 * How fast one worker process drains a backlog: N pending deliveries (events fanned out to
 * 10 webhooks, as ingest stores them) queued at once to a local receiver that answers 200
 * at once; the clock runs from the enqueue to the last delivery recorded as finished.
 *
 *   node --conditions=development --import tsx scripts/measure-drain.ts [count=5000]
 *
 * Env: WORKER_CONCURRENCY (default the worker's own, 50); DRAIN_NODE_ARGS (node flags for the worker);
 * DRAIN_WEBHOOKS (default 10; 1 = one hot endpoint); DRAIN_WORKERS (default 1). It uses its own scratch
 * database (a copy of the test template), its own redis-server on a free port (so INFO commandstats
 * and CPU are ours alone), and removes both at the end. It prints Redis commands and Redis CPU
 * per delivery, counted from just before the enqueue to the last delivery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecret, newId } from '@hooklane/core';
import { createDb } from '@hooklane/db';
import { createDeliveryQueue, createRedisConnection, enqueueDeliveries } from '@hooklane/queue';
import { Redis } from 'ioredis';
import { createTestDatabase } from '../test/support/postgres.js';
import { randomQueuePrefix } from '../test/support/redis.js';
import { startRedisServer } from '../test/support/redis-server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const count = Number(process.argv[2] ?? 5000);
// DRAIN_WEBHOOKS=1 is the hot case: one endpoint, its whole backlog behind MAX_IN_FLIGHT_PER_WEBHOOK.
const WEBHOOKS = Number(process.env.DRAIN_WEBHOOKS ?? 10);
const WORKERS = Number(process.env.DRAIN_WORKERS ?? 1);
const TEAM_ID = 1;

// The test template database (migrated once, copied per run), made by jest's global setup.
const setupModule = '../test/global-setup.mjs';
const { default: globalSetup } = (await import(setupModule)) as { default: () => Promise<void> };
await globalSetup();
const database = await createTestDatabase('drain');
const prefix = randomQueuePrefix('drain');
// A Redis of its own: INFO commandstats on a shared server counts everyone's commands.
const redisServer = await startRedisServer();
const TEST_REDIS_URL = redisServer.url;
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
// The per-attempt log lines are part of the cost measured; warnings are tallied, the rest dropped.
const warnings = new Map<string, number>();

async function spawnWorker(): Promise<ChildProcess & { stdout: Readable }> {
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
      ...(process.env.MAX_IN_FLIGHT_PER_WEBHOOK ? { MAX_IN_FLIGHT_PER_WEBHOOK: process.env.MAX_IN_FLIGHT_PER_WEBHOOK } : {}),
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
  return worker;
}
const workers = await Promise.all(Array.from({ length: WORKERS }, () => spawnWorker()));

/** utime + stime of a process, in µs (from /proc; clock ticks are 100 Hz on Linux). */
function cpuMicros(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return 0;
  }
}
/** Peak RSS in MB (VmHWM). */
function peakRssMb(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

const stats = new Redis(TEST_REDIS_URL);
async function redisCounters(): Promise<{ calls: Map<string, number>; cpuUs: number }> {
  const info = await stats.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls.set(m[1]!, Number(m[2]));
  const cpu = await stats.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(cpu)?.[1] ?? 0);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(cpu)?.[1] ?? 0);
  return { calls, cpuUs: (user + sys) * 1e6 };
}

try {
  const webhookIds = Array.from({ length: WEBHOOKS }, () => newId('wh'));
  await db.webhook.createMany({
    data: webhookIds.map((id) => ({ id, teamId: TEAM_ID, url, events: ['*'], secret: generateSecret(), retriesCount: 0 })),
  });
  const events = Math.ceil(count / WEBHOOKS);
  const deliveryIds: string[] = [];
  const webhookOf = new Map<string, string>();
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
        webhookOf.set(id, webhookId);
        deliveryRows.push({ id, teamId: TEAM_ID, webhookId, eventId, eventType: 'labeling_job.completed', nextAttemptAt: new Date() });
      }
    }
    await db.event.createMany({ data: eventRows });
    await db.delivery.createMany({ data: deliveryRows });
  }

  await stats.config('RESETSTAT');
  const before = await redisCounters();
  const workerCpuBefore = workers.reduce((sum, w) => sum + cpuMicros(w.pid), 0);
  const started = performance.now();
  for (let i = 0; i < deliveryIds.length; i += 1000) {
    await enqueueDeliveries(queue, deliveryIds.slice(i, i + 1000).map((deliveryId) => ({ deliveryId, attempt: 1, webhookId: webhookOf.get(deliveryId)! })));
  }
  let done = 0;
  let lastProgress = Date.now();
  while (done < count) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await db.delivery.count({ where: { status: { not: 'pending' } } });
    if (now > done) lastProgress = Date.now();
    done = now;
    if (workers.some((w) => w.exitCode !== null)) throw new Error(`a worker exited after ${done} deliveries`);
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
  const after = await redisCounters();
  const workerCpu = workers.reduce((sum, w) => sum + cpuMicros(w.pid), 0) - workerCpuBefore;
  let commands = 0;
  const byCommand: Record<string, number> = {};
  for (const [name, calls] of after.calls) {
    const n = calls - (before.calls.get(name) ?? 0);
    if (name === 'info' || name === 'config' || n <= 0) continue;
    commands += n;
    byCommand[name] = Number((n / count).toFixed(2));
  }
  console.log(
    JSON.stringify({
      webhooks: WEBHOOKS,
      workers: WORKERS,
      redis_commands_per_delivery: Number((commands / count).toFixed(1)),
      redis_cpu_us_per_delivery: Math.round((after.cpuUs - before.cpuUs) / count),
      worker_cpu_us_per_delivery: Math.round(workerCpu / count),
      worker_peak_rss_mb: workers.map((w) => peakRssMb(w.pid)),
      redis_commands: Object.fromEntries(Object.entries(byCommand).sort((a, b) => b[1] - a[1]).slice(0, 14)),
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
  await Promise.all(
    workers.map(async (w) => {
      w.kill('SIGTERM');
      if (w.exitCode === null) await new Promise((resolve) => w.once('exit', resolve));
    }),
  );
  stats.disconnect();
  receiver.close();
  await queue.close();
  await db.$disconnect();
  redis.disconnect();
  await database.drop();
  await redisServer.stop();
}

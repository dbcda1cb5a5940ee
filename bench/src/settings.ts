/**
 * Every knob of a run in one place. BENCH_SCALE shrinks counts and durations for a quick
 * check (0.1 = a tenth); the published figures use 1. Read once in main.ts and passed down.
 */
export interface BenchSettings {
  scale: number;
  adminDatabaseUrl: string;
  redisUrl: string;
  /** Deliveries in flight per worker process (WORKER_CONCURRENCY) and the raw client's lanes. */
  concurrency: number;
  /** Receiving webhooks in the delivery scenarios; events go to them round-robin. */
  webhooks: number;
  drainEvents: number;
  drainWorkerCounts: number[];
  payloadBytes: number;
  ingestConnections: number;
  ingestDurationMs: number;
  warmupMs: number;
  batchSize: number;
  batchConnections: number;
  batchDurationMs: number;
  latencyRate: number;
  latencyDurationMs: number;
  /** A rate well inside capacity, measured first for comparison. */
  latencyLowRate: number;
  latencyLowDurationMs: number;
  /** fifo: one webhook, events over `fifoKeys` ordering keys (fifo, then the same with ordering none). */
  fifoEvents: number;
  fifoKeys: number;
  /** fifo: one key alone, strictly one delivery after another (one round trip each). */
  fifoOneKeyEvents: number;
  isolationEvents: number;
  isolationHangShare: number;
  hangTimeoutSeconds: number;
  /** overload: the dead webhook's backlog, the healthy webhook's events/s and how long. */
  overloadBacklog: number;
  overloadRate: number;
  overloadDurationMs: number;
  /** `tsx`: API and workers run from sources (`node --import tsx`); `bundle`: esbuild bundles run with bare node. */
  runtime: 'tsx' | 'bundle';
  /** Workers run under `node --cpu-prof`, profiles written under bench/results/profiles/. */
  cpuProfile: boolean;
  /** A scenario with no delivery progress for this long is stopped and reported as stalled. */
  stallMs: number;
  /** retention: old rows seeded for the half with retention, the backlog drained and the ingest window of each half. */
  retentionOldRows: number;
  retentionDrainEvents: number;
  retentionIngestMs: number;
  /** BENCH_RETENTION_CONTROL=1: seed the old rows but run no retention task (a control run). */
  retentionControl: boolean;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got ${JSON.stringify(raw)})`);
  return value;
}

// Bundled by default: users run built JavaScript with bare node (`npm run start:worker`), and
// tsx's compiler holds some 80 MB of the worker's resident memory that production never has.
function runtime(raw: string | undefined): 'tsx' | 'bundle' {
  if (raw === undefined || raw === '' || raw === 'bundle') return 'bundle';
  if (raw === 'tsx') return 'tsx';
  throw new Error(`BENCH_RUNTIME must be tsx or bundle (got ${JSON.stringify(raw)})`);
}

export function readSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const scale = number(env, 'BENCH_SCALE', 1);
  const count = (n: number, min: number) => Math.max(min, Math.round(n * scale));
  const webhooks = number(env, 'BENCH_WEBHOOKS', 10);
  return {
    scale,
    adminDatabaseUrl: env.BENCH_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    concurrency: number(env, 'BENCH_CONCURRENCY', 50),
    webhooks,
    drainEvents: count(20_000, 200),
    drainWorkerCounts: [1, 2],
    payloadBytes: 1024,
    ingestConnections: 50,
    ingestDurationMs: count(15_000, 3_000),
    warmupMs: count(2_000, 1_000),
    batchSize: 500,
    batchConnections: 4,
    batchDurationMs: count(10_000, 3_000),
    latencyRate: 200,
    latencyDurationMs: count(30_000, 5_000),
    latencyLowRate: 50,
    latencyLowDurationMs: count(10_000, 3_000),
    fifoEvents: count(20_000, 200),
    fifoKeys: 100,
    fifoOneKeyEvents: count(2_000, 100),
    isolationEvents: count(10_000, 200),
    isolationHangShare: 0.1,
    hangTimeoutSeconds: 5,
    overloadBacklog: count(5_000, 200),
    overloadRate: 300,
    overloadDurationMs: count(120_000, 15_000),
    runtime: runtime(env.BENCH_RUNTIME),
    cpuProfile: env.BENCH_CPU_PROF === '1',
    stallMs: 60_000,
    retentionOldRows: count(number(env, 'BENCH_RETENTION_ROWS', 2_000_000), 10_000),
    retentionDrainEvents: count(6_000, 200),
    retentionIngestMs: count(10_000, 3_000),
    retentionControl: env.BENCH_RETENTION_CONTROL === '1',
  };
}

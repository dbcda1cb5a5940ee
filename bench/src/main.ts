/**
 * `npm run bench` runs every scenario; `npm run bench -- <scenario>...` runs some. Each run
 * gets its own database and queue prefixes, starts the processes it needs, prints progress,
 * a markdown table and writes bench/results/<date>.json. Every throughput figure sits next
 * to a baseline measured in the same run, because this machine is shared and noisy.
 */
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { closeApiClient } from './api-client.js';
import { startReceiver, type Receiver } from './children/receiver-client.js';
import { killAllChildrenNow, REPO_ROOT, stopAllChildren } from './children/registry.js';
import type { BenchContext } from './context.js';
import { createBenchDatabase, type BenchDatabase } from './database.js';
import { heading, note } from './progress.js';
import { deleteActivePrefixes } from './queue.js';
import { buildFigures, markdownTable, writeJson, type ScenarioResults } from './report.js';
import { runClusterDrain } from './scenarios/cluster.js';
import { runDrain, type DrainOptions } from './scenarios/drain.js';
import { runIngest } from './scenarios/ingest.js';
import { runIsolation } from './scenarios/isolation.js';
import { runLatency } from './scenarios/latency.js';
import { runOverload } from './scenarios/overload.js';
import { runRaw } from './scenarios/raw.js';
import { runRetentionBench } from './scenarios/retention.js';
import { buildRetentionFigures } from './retention-report.js';
import { readSettings, type BenchSettings } from './settings.js';
import { startBenchRedis, type BenchRedis } from './redis-server.js';
import { buildScaleFigures, scaleTable, writeScaleSvg } from './scale-report.js';
import { clusterTable } from './cluster-report.js';
import { buildFifoFigures } from './fifo-report.js';
import { API_ENTRY, useBundles, WORKER_ENTRY } from './stack.js';
import { buildBundles } from './bundle.js';

type Step =
  | 'raw' | 'drain1' | 'drain2' | 'hot' | 'scale3' | 'scale4' | 'cluster3' | 'fifoNone' | 'fifo' | 'fifoOne' | 'ingest' | 'latency' | 'latency2' | 'isolation' | 'overload' | 'retention';
const STEP_ORDER: Step[] = [
  'raw', 'drain1', 'drain2', 'hot', 'scale3', 'scale4', 'cluster3', 'fifoNone', 'fifo', 'fifoOne', 'ingest', 'latency', 'latency2', 'isolation', 'overload', 'retention',
];

// A scenario pulls in the baselines its ratios need, so that they come from the same run.
const SCENARIOS: Record<string, Step[]> = {
  raw: ['raw'],
  drain: ['raw', 'drain1', 'drain2'],
  ingest: ['ingest'],
  latency: ['latency', 'latency2'],
  isolation: ['drain1', 'isolation'],
  memory: ['drain1'],
  hot: ['drain1', 'hot'],
  scale: ['drain1', 'drain2', 'scale3', 'scale4'],
  overload: ['overload'],
  cluster: ['drain1', 'cluster3'],
  // Ordered delivery: 100 keys fifo next to the same load unordered, and one key alone.
  fifo: ['fifoNone', 'fifo', 'fifoOne'],
  // Its baseline (no old rows, no retention) is measured inside the scenario, in the same run.
  retention: ['retention'],
};

/** A mistyped command line: its message is all the user needs, not a stack. */
class UsageError extends Error {}

function planSteps(args: string[]): Step[] {
  const names = args.filter((a) => a !== '--');
  if (names.length === 0 || names.includes('all')) return STEP_ORDER;
  const wanted = new Set<Step>();
  for (const name of names) {
    const steps = SCENARIOS[name];
    if (!steps) throw new UsageError(`unknown scenario "${name}"; one of: all, ${Object.keys(SCENARIOS).join(', ')}`);
    for (const s of steps) wanted.add(s);
  }
  return STEP_ORDER.filter((s) => wanted.has(s));
}

const NEEDS: Record<Step, string[]> = {
  raw: [],
  drain1: [WORKER_ENTRY],
  drain2: [WORKER_ENTRY],
  ingest: [API_ENTRY],
  latency: [API_ENTRY, WORKER_ENTRY],
  latency2: [API_ENTRY, WORKER_ENTRY],
  isolation: [WORKER_ENTRY],
  hot: [WORKER_ENTRY],
  scale3: [WORKER_ENTRY],
  scale4: [WORKER_ENTRY],
  cluster3: [WORKER_ENTRY],
  fifoNone: [WORKER_ENTRY],
  fifo: [WORKER_ENTRY],
  fifoOne: [WORKER_ENTRY],
  overload: [API_ENTRY, WORKER_ENTRY],
  retention: [API_ENTRY, WORKER_ENTRY],
};

function missingEntry(step: Step): string | undefined {
  return NEEDS[step].find((entry) => !existsSync(resolve(REPO_ROOT, entry)));
}

function machine() {
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

let activeDb: BenchDatabase | undefined;
let benchRedis: BenchRedis | undefined;
let interrupted = false;

/** Drops the run's database and queue keys; safe to call twice (normal end and a signal). */
async function cleanupShared(redisUrl: string): Promise<void> {
  const db = activeDb;
  activeDb = undefined;
  await db?.drop().catch((err: unknown) => note(`could not drop ${db.name}: ${String(err)}`));
  await deleteActivePrefixes(redisUrl).catch((err: unknown) => note(`could not delete queue keys: ${String(err)}`));
}

/** One webhook (as hot), its events spread over `keys` ordering keys. */
function fifoOptions(settings: BenchSettings, label: string, ordering: 'none' | 'fifo', keys: number): DrainOptions {
  return { webhooks: 1, label, ordering, keys, events: settings.fifoEvents };
}

/** Each step's scenario; its result goes under the step's name in the results. */
const RUN: { [S in Step]: (ctx: BenchContext) => Promise<NonNullable<ScenarioResults[S]>> } = {
  raw: runRaw,
  drain1: (ctx) => runDrain(ctx, 1),
  drain2: (ctx) => runDrain(ctx, 2),
  hot: (ctx) => runDrain(ctx, 1, { webhooks: 1, label: 'hot' }),
  scale3: (ctx) => runDrain(ctx, 3, { label: 'scale' }),
  scale4: (ctx) => runDrain(ctx, 4, { label: 'scale' }),
  cluster3: runClusterDrain,
  fifoNone: (ctx) => runDrain(ctx, 1, fifoOptions(ctx.settings, 'fifo-none', 'none', ctx.settings.fifoKeys)),
  fifo: (ctx) => runDrain(ctx, 1, fifoOptions(ctx.settings, 'fifo', 'fifo', ctx.settings.fifoKeys)),
  fifoOne: (ctx) => runDrain(ctx, 1, { ...fifoOptions(ctx.settings, 'fifo-1key', 'fifo', 1), events: ctx.settings.fifoOneKeyEvents }),
  ingest: runIngest,
  latency: (ctx) => runLatency(ctx),
  latency2: (ctx) => runLatency(ctx, 2),
  isolation: runIsolation,
  overload: runOverload,
  retention: runRetentionBench,
};

interface Outcome {
  results: ScenarioResults;
  errors: Record<string, string>;
  skipped: Record<string, string>;
}

/** Runs the steps in order on the run's database and receiver; a failed step is recorded and the next one runs. */
async function runSteps(steps: Step[], settings: BenchSettings, runId: string, outcome: Outcome): Promise<void> {
  let receiver: Receiver | undefined;
  try {
    const db = await createBenchDatabase(settings.adminDatabaseUrl);
    activeDb = db;
    note(`database ${db.name} migrated`);
    if (settings.runtime === 'bundle') {
      useBundles(await buildBundles(runId));
      note('API and worker bundled with esbuild; running them with bare node');
    }
    receiver = await startReceiver();
    const ctx: BenchContext = { runId, settings, db, receiver };
    for (const step of steps) {
      if (interrupted) break;
      const missing = missingEntry(step);
      if (missing) {
        outcome.skipped[step] = `${missing} does not exist yet`;
        heading(`${step}: skipped (${outcome.skipped[step]})`);
        continue;
      }
      try {
        (outcome.results as Record<Step, unknown>)[step] = await RUN[step](ctx);
      } catch (err) {
        if (interrupted) break;
        outcome.errors[step] = err instanceof Error ? (err.stack ?? err.message) : String(err);
        note(`${step} FAILED: ${outcome.errors[step]}`);
        await stopAllChildren();
        // The receiver is shared: bring it back if the failure took it down.
        if (receiver.child.process.exitCode !== null || receiver.child.process.signalCode !== null) {
          receiver = await startReceiver();
          ctx.receiver = receiver;
        }
      }
    }
  } finally {
    closeApiClient();
    await stopAllChildren();
    await cleanupShared(settings.redisUrl);
    rmSync(resolve(REPO_ROOT, 'bench/.build', runId), { recursive: true, force: true });
  }
}

/** The table (and scale table and chart) on stdout and every figure in bench/results/<run>.json. */
function report(settings: BenchSettings, steps: Step[], started: Date, loadAtStart: number[], { results, errors, skipped }: Outcome): void {
  const figures = [...buildFigures(results), ...buildScaleFigures(results), ...buildRetentionFigures(results.retention), ...buildFifoFigures(results)];
  const table = markdownTable(figures);
  const scale = scaleTable(results);
  const runId = started.toISOString().replace(/[:.]/g, '-');
  const chart = writeScaleSvg(results, runId);
  const finished = new Date();
  heading(`results (${finished.toISOString().slice(0, 16).replace('T', ' ')} UTC, scale ${settings.scale})`);
  process.stdout.write(`\n${table}\n`);
  if (scale) process.stdout.write(`\n${scale}\n${chart ? `chart: ${chart}\n` : ''}`);
  const cluster = clusterTable(results);
  if (cluster) process.stdout.write(`\n${cluster}\n`);
  for (const [step, reason] of Object.entries(skipped)) process.stdout.write(`\nskipped ${step}: ${reason}`);
  for (const [step, message] of Object.entries(errors)) process.stdout.write(`\nfailed ${step}: ${message.split('\n')[0]}`);
  const path = writeJson(runId, {
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    machine: machine(),
    loadAverage: { start: loadAtStart, end: loadavg() },
    settings: { ...settings, adminDatabaseUrl: undefined },
    steps,
    results,
    figures,
    skipped,
    errors,
  });
  process.stdout.write(`\n\nwritten ${path}\n`);
}

async function main(): Promise<number> {
  // A mistyped scenario name fails here, before any server is started.
  const steps = planSteps(process.argv.slice(2));
  // Redis counts (INFO commandstats, CPU) need a server of the run's own.
  if (!process.env.BENCH_REDIS_URL) {
    benchRedis = await startBenchRedis();
    process.env.BENCH_REDIS_URL = benchRedis.url;
  }
  const settings = readSettings(process.env);
  const started = new Date();
  const runId = started.toISOString().replace(/[:.]/g, '-');
  const loadAtStart = loadavg();
  process.stdout.write(
    `hooklane bench ${runId}: ${steps.join(', ')} (scale ${settings.scale}, runtime ${settings.runtime}${settings.cpuProfile ? ', CPU profiling on' : ''})\n` +
      `machine: ${JSON.stringify(machine())}, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  const outcome: Outcome = { results: {}, errors: {}, skipped: {} };
  await runSteps(steps, settings, runId, outcome);
  await benchRedis?.stop();
  report(settings, steps, started, loadAtStart, outcome);
  return Object.keys(outcome.errors).length > 0 ? 1 : 0;
}

// Set by the first SIGINT/SIGTERM: main() waits for it rather than exiting under it.
let interruptCleanup: Promise<void> | undefined;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      killAllChildrenNow();
      process.exit(130);
    }
    interrupted = true;
    process.stdout.write(`\n${signal}: stopping children and dropping the bench database\n`);
    interruptCleanup = stopAllChildren(3_000)
      .then(() => cleanupShared(readSettings(process.env).redisUrl))
      .finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  killAllChildrenNow();
  void benchRedis?.stop();
});

main().then(
  async (code) => {
    await interruptCleanup;
    process.exit(code);
  },
  async (err: unknown) => {
    const detail = err instanceof UsageError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`bench failed: ${detail}\n`);
    killAllChildrenNow();
    await cleanupShared(readSettings(process.env).redisUrl).catch(() => undefined);
    await interruptCleanup;
    process.exit(1);
  },
);

import { mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { spawnTs, REPO_ROOT, type Child } from './children/registry.js';
import { freePort, waitForHttp } from './children/http-wait.js';
import type { BenchSettings } from './settings.js';

export const API_ENTRY = 'apps/api/src/main.ts';
export const WORKER_ENTRY = 'apps/worker/src/main.ts';
export const RAW_CLIENT_ENTRY = 'bench/src/children/raw-client-process.ts';
/** Set once per run when BENCH_RUNTIME=bundle: the bundled entry points to run instead of the sources. */
let bundles: { api: string; worker: string; rawClient: string } | null = null;
export function useBundles(paths: { api: string; worker: string; rawClient: string }): void {
  bundles = paths;
}

/** The raw baseline client's entry and whether it is plain JavaScript. */
export function rawClientEntry(): { entry: string; plainJs: boolean } {
  return bundles ? { entry: bundles.rawClient, plainJs: true } : { entry: RAW_CLIENT_ENTRY, plainJs: false };
}

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

export interface Api {
  child: Child;
  baseUrl: string;
  stop(): Promise<number | null>;
}

/** One API process, as `npm run start:api` runs it but from sources, bound to loopback. */
export async function startApi(
  settings: BenchSettings,
  databaseUrl: string,
  queuePrefix: string,
  options: { name: string; profileRunId?: string },
): Promise<Api> {
  const port = await freePort();
  const child = spawnTs(options.name, bundles?.api ?? API_ENTRY, {
    plainJs: bundles !== null,
    extraNodeFlags: profileFlags(settings, options),
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      DATABASE_URL: databaseUrl,
      REDIS_URL: settings.redisUrl,
      QUEUE_PREFIX: queuePrefix,
      ALLOW_PRIVATE_TARGETS: 'true',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    },
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${baseUrl}/readyz`, child);
  return { child, baseUrl, stop: () => child.stop(15_000) };
}

export interface Worker {
  child: Child;
  /** Peak resident set so far (VmHWM), in bytes; null once the process is gone. */
  peakRssBytes(): Promise<number | null>;
  stop(): Promise<number | null>;
}

export function profileDir(runId: string): string {
  return resolve(REPO_ROOT, 'bench/results/profiles', runId);
}

/** `--cpu-prof` into a directory per process: node writes a profile per thread (tsx's loader has its own). */
function profileFlags(settings: BenchSettings, options: { name: string; profileRunId?: string }): string[] {
  if (!settings.cpuProfile || !options.profileRunId) return [];
  const dir = resolve(profileDir(options.profileRunId), options.name);
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** The node flags of `npm run start:worker` (root package.json), so the bench runs the worker as operators do. */
function startWorkerFlags(): string[] {
  const scripts = (JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  return (scripts['start:worker'] ?? '').split(/\s+/).filter((word) => word.startsWith('--'));
}

/** One delivery worker process, as `npm run start:worker` runs it (bundled, or from sources under tsx). */
export function startWorker(
  settings: BenchSettings,
  databaseUrl: string,
  queuePrefix: string,
  options: { name: string; profileRunId?: string; env?: Record<string, string> },
): Worker {
  const extraNodeFlags = [...startWorkerFlags(), ...profileFlags(settings, options)];
  const child = spawnTs(options.name, bundles?.worker ?? WORKER_ENTRY, {
    plainJs: bundles !== null,
    extraNodeFlags,
    env: {
      DATABASE_URL: databaseUrl,
      REDIS_URL: settings.redisUrl,
      QUEUE_PREFIX: queuePrefix,
      METRICS_PORT: '0',
      HOST: '127.0.0.1',
      ALLOW_PRIVATE_TARGETS: 'true',
      WORKER_CONCURRENCY: String(settings.concurrency),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...options.env,
    },
  });
  return {
    child,
    peakRssBytes: () => readPeakRss(child.pid),
    // The worker finishes its in-flight attempts on SIGTERM; a profile is written only on a clean exit.
    stop: () => child.stop(30_000),
  };
}

/** VmHWM from /proc: the process's peak resident set since it started. */
export async function readPeakRss(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    return match?.[1] ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, in ms; null once it is gone. */
export async function readCpuMs(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * (1000 / CLOCK_TICKS_PER_SECOND) : null;
  } catch {
    return null;
  }
}

// USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK).
const CLOCK_TICKS_PER_SECOND = 100;

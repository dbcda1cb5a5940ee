import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

/** The repository root: every child runs from here so `--import tsx` and the workspaces resolve. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Node flags that run TypeScript sources of the workspaces directly, as `npm run dev` does. */
export const TS_NODE_FLAGS = ['--conditions=development', '--import', 'tsx'];

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  /** Last lines of output, shown when the child dies unexpectedly. */
  stderrTail(): string;
  /** pino lines by level name (warn, error, fatal) and the first few messages, to explain a slow run. */
  logSummary(): LogSummary;
  stop(graceMs?: number): Promise<number | null>;
}

export interface LogSummary {
  counts: Record<string, number>;
  samples: string[];
}

const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

const live = new Set<Child>();

function track(name: string, child: ChildProcess): Child {
  if (child.pid === undefined) throw new Error(`${name}: failed to start`);
  let tail = '';
  let partial = '';
  const counts: Record<string, number> = {};
  const samples: string[] = [];
  const countLines = (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      let level = 'text';
      let msg = line;
      try {
        const parsed = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
        level = PINO_LEVELS[parsed.level ?? 0] ?? 'text';
        msg = `${parsed.msg ?? ''}${parsed.err?.message ? `: ${parsed.err.message}` : ''}`;
      } catch {
        // not pino: a stack trace or a loader warning
      }
      counts[level] = (counts[level] ?? 0) + 1;
      if (samples.length < 8 && !samples.includes(`${level}: ${msg.slice(0, 300)}`)) samples.push(`${level}: ${msg.slice(0, 300)}`);
    }
  };
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    tail = (tail + text).slice(-4000);
    countLines(text);
  };
  // A failed spawn or IPC send is reported through exit codes and rejections, never as a crash.
  child.on('error', (err) => {
    tail = `${tail}\n[bench] ${name}: ${err.message}`.slice(-4000);
  });
  child.stderr?.on('data', keep);
  // A child's stdout is never read for results; drained so a chatty child cannot block on a full pipe.
  child.stdout?.on('data', keep);
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(code ?? (signal ? -1 : null)));
  });
  const handle: Child = {
    name,
    process: child,
    pid: child.pid,
    stderrTail: () => tail,
    logSummary: () => ({ counts: { ...counts }, samples: [...samples] }),
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
          live.delete(handle);
        }
      }
      live.delete(handle);
      return child.exitCode;
    },
  };
  live.add(handle);
  child.once('exit', () => live.delete(handle));
  return handle;
}

export interface SpawnOptions {
  env: Record<string, string>;
  extraNodeFlags?: string[];
  /** Plain JavaScript (a bundle): run with bare node, without the TypeScript loader. */
  plainJs?: boolean;
}

/** A TypeScript entry point of the repo as its own node process (pid is node itself, for /proc sampling). */
export function spawnTs(name: string, entry: string, { env, extraNodeFlags = [], plainJs = false }: SpawnOptions): Child {
  const loader = plainJs ? [] : TS_NODE_FLAGS;
  const child = spawn(process.execPath, [...loader, ...extraNodeFlags, resolve(REPO_ROOT, entry)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(name, child);
}

/** Like spawnTs, with an IPC channel for bench-internal helpers (receiver, raw client). */
export function forkTs(name: string, entry: string, env: Record<string, string> = {}, plainJs = false): Child {
  const child = fork(resolve(REPO_ROOT, entry), [], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    execArgv: plainJs ? [] : TS_NODE_FLAGS,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  return track(name, child);
}

/** Kills every child still running; called in finally blocks and on SIGINT/SIGTERM. */
export async function stopAllChildren(graceMs = 5_000): Promise<void> {
  await Promise.allSettled([...live].map((c) => c.stop(graceMs)));
}

/** Synchronous last resort for process 'exit': no awaiting possible there. */
export function killAllChildrenNow(): void {
  for (const c of live) {
    try {
      c.process.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Resolves when the child exits; used to fail fast instead of waiting out a timeout. */
export function exitOf(child: Child): Promise<number | null> {
  if (child.process.exitCode !== null) return Promise.resolve(child.process.exitCode);
  return once(child.process, 'exit').then(([code]) => code as number | null);
}

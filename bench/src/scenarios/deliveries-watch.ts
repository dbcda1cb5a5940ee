import type { Receiver, ReceiverStats } from '../children/receiver-client.js';
import type { Child } from '../children/registry.js';
import { progressLine, sleep } from '../progress.js';

export interface WatchResult {
  stats: ReceiverStats;
  complete: boolean;
  /** Why the watch ended early, when it did. */
  stopReason: string | null;
  wallMs: number;
}

/**
 * Polls the receiver once a second until `expected` distinct deliveries have arrived,
 * printing progress; stops by itself when nothing arrives for `stallMs`, when a watched
 * process dies, or after `maxMs`.
 */
export async function watchDeliveries(
  receiver: Receiver,
  label: string,
  expected: number,
  {
    stallMs,
    maxMs,
    processes = [],
    onPoll,
  }: { stallMs: number; maxMs: number; processes?: Child[]; onPoll?: (stats: ReceiverStats) => Promise<void> },
): Promise<WatchResult> {
  const start = Date.now();
  let lastProgressAt = start;
  let lastUnique = -1;
  for (;;) {
    await sleep(1000);
    const stats = await receiver.stats();
    await onPoll?.(stats);
    const now = Date.now();
    const extra = stats.duplicates > 0 ? `dup ${stats.duplicates}` : '';
    progressLine(label, stats.unique, expected, now - start, extra);
    if (stats.unique >= expected) return { stats, complete: true, stopReason: null, wallMs: now - start };
    if (stats.unique !== lastUnique) {
      lastUnique = stats.unique;
      lastProgressAt = now;
    }
    const dead = processes.find((p) => p.process.exitCode !== null || p.process.signalCode !== null);
    if (dead) {
      return { stats, complete: false, stopReason: `${dead.name} exited:\n${dead.stderrTail()}`, wallMs: now - start };
    }
    if (now - lastProgressAt > stallMs) {
      return { stats, complete: false, stopReason: `no delivery for ${stallMs / 1000} s`, wallMs: now - start };
    }
    if (now - start > maxMs) return { stats, complete: false, stopReason: `gave up after ${maxMs / 1000} s`, wallMs: now - start };
  }
}

/** Deliveries per second over the receiver's first-to-last arrival window. */
export function arrivalRate(stats: ReceiverStats, count: number): number {
  if (stats.firstAt === null || stats.lastAt === null || stats.lastAt <= stats.firstAt) return 0;
  return (count / (stats.lastAt - stats.firstAt)) * 1000;
}

/**
 * CPU milliseconds the given processes spend per delivery, between the first poll that saw
 * a delivery and the last poll: start-up (module loading, compiling) stays out, and CPU
 * time, unlike throughput, hardly depends on what else the machine is running.
 */
export function cpuPerDeliveryMeter(pids: () => number[], readCpuMs: (pid: number) => Promise<number | null>) {
  let start: { unique: number; cpu: number } | null = null;
  let last: { unique: number; cpu: number } | null = null;
  const total = async () => {
    const values = await Promise.all(pids().map(readCpuMs));
    return values.reduce<number>((sum, v) => sum + (v ?? 0), 0);
  };
  return {
    async onPoll(stats: ReceiverStats) {
      if (stats.unique === 0) return;
      const point = { unique: stats.unique, cpu: await total() };
      start ??= point;
      last = point;
    },
    msPerDelivery(): number | null {
      if (!start || !last || last.unique <= start.unique) return null;
      return (last.cpu - start.cpu) / (last.unique - start.unique);
    },
  };
}

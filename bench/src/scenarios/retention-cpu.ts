import { RETENTION_LOCK_KEY } from '@hooklane/db';
import type pg from 'pg';
import { readCpuMs } from '../stack.js';

/**
 * CPU time of the PostgreSQL backend running retention (the session holding its advisory
 * lock; PostgreSQL runs on this machine, so /proc has it). Unlike throughput, which swings
 * with whatever else the shared machine runs, this says what retention takes from the hot
 * path at most. Each run opens a connection of its own, so a backend first seen during a
 * window did retention work only: its whole CPU time counts.
 */

interface Sample {
  at: number;
  pid: number;
  cpuMs: number;
}

export interface BackendCpuSampler {
  stop(): Promise<void>;
  /** CPU ms the retention backends used between two times (ms since `origin`). */
  cpuMsIn(from: number, to: number): number;
}

async function holderPid(pool: pg.Pool): Promise<number | null> {
  // A one-bigint advisory key shows as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
  const { rows } = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND objsubid = 1 AND granted LIMIT 1`,
    [RETENTION_LOCK_KEY],
  );
  return rows[0]?.pid ?? null;
}

export function startBackendCpuSampler(pool: pg.Pool, origin: () => number, everyMs = 250): BackendCpuSampler {
  const samples: Sample[] = [];
  const firstSeen = new Map<number, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const pid = await holderPid(pool).catch(() => null);
      const cpuMs = pid === null ? null : await readCpuMs(pid);
      if (pid !== null && cpuMs !== null) {
        const at = Date.now() - origin();
        if (!firstSeen.has(pid)) firstSeen.set(pid, at);
        samples.push({ at, pid, cpuMs });
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
    cpuMsIn(from, to) {
      let total = 0;
      for (const pid of firstSeen.keys()) {
        const inWindow = samples.filter((s) => s.pid === pid && s.at >= from && s.at <= to);
        if (inWindow.length === 0) continue;
        const base = firstSeen.get(pid)! >= from ? 0 : inWindow[0]!.cpuMs;
        total += inWindow[inWindow.length - 1]!.cpuMs - base;
      }
      return total;
    },
  };
}

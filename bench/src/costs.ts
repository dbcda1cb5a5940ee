import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { Redis } from 'ioredis';

/**
 * Work per delivery on the shared components, measured around a scenario:
 * - Redis: INFO commandstats (commands inside Lua scripts are counted one by one, EVALSHA
 *   itself once) and INFO cpu (the server's user + system CPU) on the bench's own server;
 * - PostgreSQL: CPU of the server processes serving the run's database (/proc of the
 *   backends pg_stat_activity lists for it) and transactions (xact_commit).
 */
export interface DeliveryCosts {
  redisCommandsPerDelivery: number;
  redisCpuUsPerDelivery: number;
  /** The commands behind most of the count, per delivery. */
  redisTopCommands: Record<string, number>;
  pgCpuUsPerDelivery: number;
  pgTransactionsPerDelivery: number;
}

interface Snapshot {
  calls: Map<string, number>;
  redisCpuUs: number;
  pgCpuUs: Map<number, number>;
  xacts: number;
}

const TICK_US = 10_000; // Linux clock ticks are 100 Hz

function processCpuUs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return 0;
  }
}

export interface CostMeter {
  /** Call at the end, before the scenario's processes close their connections. */
  finish(deliveries: number): Promise<DeliveryCosts>;
  /** Backends seen so far: call now and then, so those that close before the end still count. */
  sample(): Promise<void>;
}

export async function startCostMeter(redisUrl: string, pool: pg.Pool, dbName: string): Promise<CostMeter> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const seenPg = new Map<number, number>();
  async function snapshot(): Promise<Snapshot> {
    const stats = await redis.info('commandstats');
    const calls = new Map<string, number>();
    for (const m of stats.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls.set(m[1]!, Number(m[2]));
    const cpu = await redis.info('cpu');
    const redisCpuUs =
      (Number(/used_cpu_user:([\d.]+)/.exec(cpu)?.[1] ?? 0) + Number(/used_cpu_sys:([\d.]+)/.exec(cpu)?.[1] ?? 0)) * 1e6;
    const backends = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName]);
    const pgCpuUs = new Map<number, number>();
    for (const { pid } of backends.rows) pgCpuUs.set(pid, processCpuUs(pid));
    const x = await pool.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1', [dbName]);
    return { calls, redisCpuUs, pgCpuUs, xacts: Number(x.rows[0]?.n ?? 0) };
  }
  const before = await snapshot();
  const record = (s: Snapshot) => {
    for (const [pid, us] of s.pgCpuUs) seenPg.set(pid, Math.max(seenPg.get(pid) ?? 0, us));
  };
  return {
    async sample() {
      record(await snapshot());
    },
    async finish(deliveries) {
      const after = await snapshot();
      record(after);
      redis.disconnect();
      const n = Math.max(1, deliveries);
      let commands = 0;
      const top: Array<[string, number]> = [];
      for (const [name, calls] of after.calls) {
        const d = calls - (before.calls.get(name) ?? 0);
        if (d <= 0 || name === 'info') continue;
        commands += d;
        top.push([name, Math.round((d / n) * 100) / 100]);
      }
      let pgUs = 0;
      for (const [pid, us] of seenPg) pgUs += us - (before.pgCpuUs.get(pid) ?? 0);
      return {
        redisCommandsPerDelivery: Math.round((commands / n) * 10) / 10,
        redisCpuUsPerDelivery: Math.round((after.redisCpuUs - before.redisCpuUs) / n),
        redisTopCommands: Object.fromEntries(top.sort((a, b) => b[1] - a[1]).slice(0, 8)),
        pgCpuUsPerDelivery: Math.round(pgUs / n),
        pgTransactionsPerDelivery: Math.round(((after.xacts - before.xacts) / n) * 100) / 100,
      };
    },
  };
}

import { Redis } from 'ioredis';

/**
 * Redis work per delivery on each shard of a cluster: INFO cpu (used_cpu_user + used_cpu_sys)
 * and INFO commandstats of every master, before and after a scenario, divided by the
 * deliveries. The same counters as costs.ts reads on one Redis, one row per shard.
 */
export interface ShardCost {
  /** The node's address, `host:port`. */
  node: string;
  cpuUsPerDelivery: number;
  commandsPerDelivery: number;
}

interface Counters {
  cpuUs: number;
  commands: number;
}

async function read(redis: Redis): Promise<Counters> {
  const cpu = await redis.info('cpu');
  const cpuUs = (Number(/used_cpu_user:([\d.]+)/.exec(cpu)?.[1] ?? 0) + Number(/used_cpu_sys:([\d.]+)/.exec(cpu)?.[1] ?? 0)) * 1e6;
  let commands = 0;
  for (const m of (await redis.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) {
    if (m[1] !== 'info') commands += Number(m[2]);
  }
  return { cpuUs, commands };
}

export interface ShardCostMeter {
  finish(deliveries: number): Promise<ShardCost[]>;
}

/** `nodeUrls`: each master's own `redis://host:port` (a plain connection, not the cluster client). */
export async function startShardCostMeter(nodeUrls: readonly string[]): Promise<ShardCostMeter> {
  const clients = nodeUrls.map((url) => new Redis(url, { maxRetriesPerRequest: 1 }));
  const before = await Promise.all(clients.map(read));
  return {
    async finish(deliveries) {
      const after = await Promise.all(clients.map(read));
      for (const c of clients) c.disconnect();
      const n = Math.max(1, deliveries);
      return after.map((a, i) => ({
        node: new URL(nodeUrls[i]!).host,
        cpuUsPerDelivery: Math.round((a.cpuUs - before[i]!.cpuUs) / n),
        commandsPerDelivery: Math.round(((a.commands - before[i]!.commands) / n) * 10) / 10,
      }));
    },
  };
}

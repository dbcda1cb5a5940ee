import type { ScenarioResults } from './report.js';

/**
 * One Redis (drain1) next to the 3-shard cluster with QUEUE_PARTITIONS=3 (cluster3), same
 * run, same backlog shape: rate, and Redis CPU and commands per delivery, per shard for the
 * cluster. Empty when the run had no cluster step.
 */
export function clusterTable(r: ScenarioResults): string {
  const c = r.cluster3;
  if (!c) return '';
  const rows = ['| Redis | deliveries/s | Redis CPU µs/delivery | Redis cmds/delivery | lost/dup |', '|---|---|---|---|---|'];
  const d = r.drain1;
  if (d) {
    rows.push(`| one Redis (drain1) | ${Math.round(d.deliveriesPerSecond)} | ${d.costs?.redisCpuUsPerDelivery ?? '?'} | ${d.costs?.redisCommandsPerDelivery ?? '?'} | ${d.lost}/${d.duplicates} |`);
  }
  const shards = c.shardCosts ?? [];
  const cpu = shards.map((s) => s.cpuUsPerDelivery);
  const cmds = shards.map((s) => s.commandsPerDelivery);
  const sum = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) * 10) / 10;
  rows.push(
    `| 3-shard cluster, QUEUE_PARTITIONS=3 | ${Math.round(c.deliveriesPerSecond)} | ${cpu.join(' / ')} per shard (sum ${sum(cpu)}) | ${cmds.join(' / ')} per shard (sum ${sum(cmds)}) | ${c.lost}/${c.duplicates} |`,
  );
  return rows.join('\n');
}

import type { BenchContext } from '../context.js';
import { heading, note } from '../progress.js';
// The test suite's cluster helper (redis-server --cluster-enabled on free ports, then
// redis-cli --cluster create): one implementation for the tests and the bench.
import { startRedisCluster } from '../../../test/support/redis-cluster.js';
import { runDrain, type DrainResult } from './drain.js';

export const CLUSTER_MASTERS = 3;

/**
 * The 10-webhook drain (one worker, as drain1) on a 3-master Redis Cluster of the scenario's
 * own with QUEUE_PARTITIONS=3, so one partition per master: Redis CPU and commands per
 * delivery per shard, read from each master's INFO before and after, to set next to drain1's
 * one Redis in the same run.
 */
export async function runClusterDrain(ctx: BenchContext): Promise<DrainResult> {
  heading(`cluster: starting a ${CLUSTER_MASTERS}-master Redis Cluster`);
  const cluster = await startRedisCluster({ masters: CLUSTER_MASTERS });
  try {
    note(`cluster on ${cluster.url}`);
    return await runDrain(ctx, 1, {
      label: 'cluster',
      redis: {
        url: cluster.url,
        layout: { redisMode: 'cluster', queuePartitions: CLUSTER_MASTERS },
        nodeUrls: cluster.url.split(','),
      },
    });
  } finally {
    await cluster.stop();
  }
}

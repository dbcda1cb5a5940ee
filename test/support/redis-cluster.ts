import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startRedisServer, type RedisServer } from './redis-server.js';

/**
 * A private Redis Cluster of `masters` masters (no replicas) on free ports, for tests that
 * must see keys spread over shards. Each node keeps its `nodes.conf` in its own folder of a
 * temp dir, and persists no data: `restartNode(i)` brings node i back with its slots but
 * EMPTY, the case of a shard that crashed and lost its data.
 *
 *   const cluster = await startRedisCluster();
 *   // REDIS_MODE=cluster, REDIS_URL=cluster.url
 *   await cluster.restartNode(1, { downMs: 3000 });
 *   await cluster.stop();
 */

const run = promisify(execFile);
const HOST = '127.0.0.1';

export interface RedisClusterNode {
  readonly server: RedisServer;
  readonly port: number;
  /** The slots this master holds, as `[first, last]` ranges. */
  slots: Array<[number, number]>;
}

export interface RedisCluster {
  readonly nodes: readonly RedisClusterNode[];
  /** Comma-separated seed URLs, as REDIS_URL takes them in cluster mode. */
  readonly url: string;
  /** `redis-cli -p <port> <args>` against node i; returns stdout. */
  cli(node: number, ...args: string[]): Promise<string>;
  /** Waits until every running node reports cluster_state:ok. */
  waitForOk(timeoutMs?: number): Promise<void>;
  /** Kills node i (SIGKILL), waits `downMs`, restarts it empty with its slots, waits for cluster_state:ok. */
  restartNode(node: number, options?: { downMs?: number }): Promise<void>;
  /** Number of keys node i holds (DBSIZE). */
  dbsize(node: number): Promise<number>;
  /** Stops every node and removes the temp dir. */
  stop(): Promise<void>;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), ...args], { timeout: 10_000 });
  return stdout;
}

async function waitForOk(ports: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(ports.map((port) => cli(port, 'cluster', 'info').catch(() => '')));
    if (states.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) throw new Error(`cluster not ok within ${timeoutMs} ms:\n${states.join('\n')}`);
    await sleep(100);
  }
}

async function readSlots(port: number): Promise<Map<number, Array<[number, number]>>> {
  // `CLUSTER NODES` lines: id addr flags master ping pong epoch link slot-range...
  const lines = (await cli(port, 'cluster', 'nodes')).trim().split('\n');
  const byPort = new Map<number, Array<[number, number]>>();
  for (const line of lines) {
    const fields = line.split(' ');
    const nodePort = Number(/:(\d+)@/.exec(fields[1] ?? '')?.[1]);
    const ranges = fields.slice(8).filter((f) => /^\d/.test(f)).map((f) => {
      const [a, b] = f.split('-').map(Number);
      return [a!, b ?? a!] as [number, number];
    });
    byPort.set(nodePort, ranges);
  }
  return byPort;
}

export async function startRedisCluster(options: { masters?: number; nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const dir = await mkdtemp(path.join(tmpdir(), 'hooklane-cluster-'));
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      servers.push(
        await startRedisServer({
          args: [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', path.join(dir, `nodes-${i}.conf`),
            '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2000),
            '--dir', dir,
          ],
        }),
      );
    }
    const ports = servers.map((s) => s.port);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-yes'], { timeout: 30_000 });
    await waitForOk(ports, 20_000);
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const slots = await readSlots(servers[0]!.port);
  const nodes: RedisClusterNode[] = servers.map((server) => ({ server, port: server.port, slots: slots.get(server.port) ?? [] }));
  const runningPorts = () => servers.filter((s) => s.running).map((s) => s.port);

  return {
    nodes,
    url: servers.map((s) => s.url).join(','),
    cli: (node, ...args) => cli(servers[node]!.port, ...args),
    waitForOk: (timeoutMs = 30_000) => waitForOk(runningPorts(), timeoutMs),
    async restartNode(node, { downMs = 0 } = {}) {
      await servers[node]!.restart({ downMs });
      await waitForOk(runningPorts(), 60_000);
    },
    async dbsize(node) {
      return Number((await cli(servers[node]!.port, 'dbsize')).trim());
    },
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

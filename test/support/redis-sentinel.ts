import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort, redisCommand, startRedisServer, type RedisServer } from './redis-server.js';

/**
 * A private Sentinel set on free ports: one master, one replica, three sentinels watching
 * them under `name` (quorum 2, a node is down after 1 s). `killMaster()` SIGKILLs the
 * current master, and the sentinels promote the replica within a few seconds.
 *
 *   const set = await startRedisSentinel();
 *   // REDIS_MODE=sentinel, REDIS_URL=set.url, REDIS_SENTINEL_NAME=set.name
 *   await set.killMaster();
 *   await set.waitForMasterPort(set.replica.port);
 *   await set.stop();
 */

const run = promisify(execFile);
const HOST = '127.0.0.1';

export interface RedisSentinelSet {
  readonly name: string;
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinelPorts: readonly number[];
  /** Comma-separated sentinel URLs, as REDIS_URL takes them in sentinel mode. */
  readonly url: string;
  /** The port the sentinels currently name as master. */
  masterPort(): Promise<number>;
  /** Waits until the sentinels name `port` as master and that server answers as one. */
  waitForMasterPort(port: number, timeoutMs?: number): Promise<void>;
  /** SIGKILLs the server the sentinels name as master; returns its port. */
  killMaster(): Promise<number>;
  stop(): Promise<void>;
}

interface Sentinel {
  port: number;
  child: ChildProcess;
}

async function startSentinel(dir: string, name: string, masterPort: number, index: number): Promise<Sentinel> {
  const port = await freePort();
  const file = path.join(dir, `sentinel-${index}.conf`);
  // Sentinel rewrites its own config file, so each gets a writable one.
  await writeFile(
    file,
    [
      `port ${port}`,
      `bind ${HOST}`,
      'protected-mode no',
      `dir ${dir}`,
      `sentinel monitor ${name} ${HOST} ${masterPort} 2`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  const child = spawn('redis-server', [file, '--sentinel'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sentinel on ${port} exited during start-up`);
    if ((await redisCommand(port, 'PING', 500).catch(() => '')) === '+PONG') return { port, child };
    if (Date.now() > deadline) throw new Error(`sentinel on ${port} did not answer PING`);
    await sleep(50);
  }
}

async function sentinelMasterPort(sentinelPort: number, name: string): Promise<number> {
  const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(sentinelPort), 'sentinel', 'get-master-addr-by-name', name], { timeout: 5000 });
  return Number(stdout.trim().split('\n')[1]);
}

export async function startRedisSentinel(options: { name?: string } = {}): Promise<RedisSentinelSet> {
  const name = options.name ?? 'hooklane-master';
  const dir = await mkdtemp(path.join(tmpdir(), 'hooklane-sentinel-'));
  const master = await startRedisServer({ args: ['--dir', dir] });
  const replica = await startRedisServer({ args: ['--dir', dir, '--replicaof', HOST, String(master.port)] });
  const sentinels: Sentinel[] = [];
  const stop = async () => {
    await Promise.all(
      sentinels.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }),
    );
    await Promise.all([master.stop(), replica.stop()]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // The replica must be in sync before a failover can promote it.
    const deadline = Date.now() + 15_000;
    while (!(await run('redis-cli', ['-p', String(replica.port), 'info', 'replication'])).stdout.includes('master_link_status:up')) {
      if (Date.now() > deadline) throw new Error('replica never synced with its master');
      await sleep(100);
    }
    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(dir, name, master.port, i));
  } catch (err) {
    await stop();
    throw err;
  }

  const masterPort = () => sentinelMasterPort(sentinels[0]!.port, name);
  return {
    name,
    master,
    replica,
    sentinelPorts: sentinels.map((s) => s.port),
    url: sentinels.map((s) => `redis://${HOST}:${s.port}`).join(','),
    masterPort,
    async waitForMasterPort(port, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const named = await Promise.all(sentinels.map((s) => sentinelMasterPort(s.port, name).catch(() => 0)));
        const role = await run('redis-cli', ['-p', String(port), 'role']).then((r) => r.stdout, () => '');
        if (named.every((p) => p === port) && role.startsWith('master')) return;
        if (Date.now() > deadline) throw new Error(`sentinels name ${named.join(',')} as master, not ${port}`);
        await sleep(100);
      }
    },
    async killMaster() {
      const port = await masterPort();
      const server = [master, replica].find((s) => s.port === port);
      if (!server) throw new Error(`master on ${port} is not ours`);
      await server.kill('SIGKILL');
      return port;
    },
    stop,
  };
}

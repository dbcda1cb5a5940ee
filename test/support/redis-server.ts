import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A private `redis-server` for chaos tests, so a test can flush, kill and restart Redis
 * without touching the shared one on 6379 that other test files use at the same moment.
 *
 * Nothing is persisted (`--save "" --appendonly no`): a restart comes back EMPTY, which is
 * the case Hooklane must survive (PostgreSQL is the record of truth, Redis only the queue).
 * It listens on 127.0.0.1 only, on a free port that stays the same across restarts, so a
 * `REDIS_URL` handed to the processes under test stays valid.
 *
 *   const redis = await startRedisServer();
 *   // ... REDIS_URL: redis.url
 *   await redis.flushall();           // every key gone, the server stays up
 *   await redis.restart();            // SIGKILL, then a fresh empty server on the same port
 *   await redis.restart({ downMs: 5000 }); // ... after 5 s without any Redis
 *   await redis.stop();               // in afterAll
 */

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** True while a server process is up. */
  readonly running: boolean;
  /** Deletes every key (FLUSHALL); the server keeps running and clients stay connected. */
  flushall(): Promise<void>;
  /**
   * Kills the server (SIGKILL by default: a crash, no shutdown save), optionally waits
   * `downMs` with nothing listening, then starts a fresh empty one on the same port.
   */
  restart(options?: { signal?: NodeJS.Signals; downMs?: number }): Promise<void>;
  /** Kills the server; a later `start()` brings it back on the same port. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again after `kill()`; resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops for good (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Fixed port; default a free one chosen at start. */
  port?: number;
  /** Extra `redis-server` arguments, e.g. ['--maxmemory', '10mb']. */
  args?: string[];
  /** Path of the binary; default `redis-server` from PATH. */
  binary?: string;
  /** How long to wait for PING after a start. */
  startTimeoutMs?: number;
}

const HOST = '127.0.0.1';

import { freePort } from './free-port.js';

export { freePort };

/** Sends one inline command over a raw socket and returns the first reply line. */
export async function redisCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on ${port}: no reply to ${command} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      const end = reply.indexOf('\r\n');
      if (end === -1) return;
      clearTimeout(timer);
      socket.end();
      resolve(reply.slice(0, end));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const binary = options.binary ?? 'redis-server';
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const args = [
    '--port', String(port),
    '--bind', HOST,
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--protected-mode', 'no',
    '--loglevel', 'warning',
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let output = '';

  const waitForPing = async () => {
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`redis-server on port ${port} exited during start-up:\n${output}`);
      }
      try {
        if ((await redisCommand(port, 'PING', 500)) === '+PONG') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${startTimeoutMs} ms:\n${output}`);
      await sleep(50);
    }
  };

  const start = async () => {
    if (child) throw new Error(`redis-server on port ${port} is already running`);
    output = '';
    const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.on('error', (err) => {
      output += `\n${err.message}`;
    });
    proc.on('exit', () => {
      if (child === proc) child = undefined;
    });
    try {
      await waitForPing();
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    }
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const proc = child;
    if (!proc) return;
    const exited = proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : once(proc, 'exit').then(() => undefined);
    proc.kill(signal);
    const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
    if (child === proc) child = undefined;
  };

  await start();

  return {
    port,
    url: `redis://${HOST}:${port}`,
    get running() {
      return child !== undefined;
    },
    async flushall() {
      const reply = await redisCommand(port, 'FLUSHALL');
      if (reply !== '+OK') throw new Error(`FLUSHALL answered ${reply}`);
    },
    async restart({ signal = 'SIGKILL', downMs = 0 } = {}) {
      await kill(signal);
      if (downMs > 0) await sleep(downMs);
      await start();
    },
    kill,
    start,
    async stop() {
      await kill('SIGTERM');
    },
  };
}

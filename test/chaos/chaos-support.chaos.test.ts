import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import net from 'node:net';
import { Redis } from 'ioredis';
import { redisCommand, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * The chaos tools must do exactly what they claim, or a chaos test proves nothing: a
 * "cut" that still lets bytes through would make any service look resilient.
 */

let echo: net.Server;
let echoPort: number;

/** What a fresh connection through `port` gets back for `text` within `waitMs`, or why it failed. */
async function roundTrip(port: number, text: string, waitMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let got = '';
    const finish = (result: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(got === '' ? 'silence' : got), waitMs);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk) => {
      got += chunk.toString();
      if (got.length >= text.length) finish(got);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
  });
}

/** An open connection through the proxy, and what happens to it next. */
async function openConnection(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  let received = '';
  let ended: string | undefined;
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('error', (err: NodeJS.ErrnoException) => (ended ??= err.code ?? err.message));
  socket.on('close', () => (ended ??= 'closed'));
  return {
    socket,
    received: () => received,
    ended: () => ended,
  };
}

const settle = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  echo = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterAll(async () => {
  echo.close();
});

describe('tcp proxy', () => {
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = await startTcpProxy({ targetPort: echoPort });
  });

  afterAll(async () => {
    await proxy.close();
  });

  it('forwards both ways, and rewrites a URL to go through it', async () => {
    expect(await roundTrip(proxy.port, 'hello')).toBe('hello');
    expect(proxy.state).toBe('up');
    expect(proxy.forwarded).toBeGreaterThanOrEqual(1);
    expect(proxy.url('postgresql://postgres@127.0.0.1:5432/db?x=1')).toBe(`postgresql://postgres@127.0.0.1:${proxy.port}/db?x=1`);
  });

  it('refuse: live connections are reset, new ones refused; restore reopens on the same port', async () => {
    const live = await openConnection(proxy.port);
    await proxy.cut('refuse');
    await settle();
    expect(live.ended()).toBeDefined();
    expect(await roundTrip(proxy.port, 'x')).toBe('ECONNREFUSED');
    await proxy.restore();
    expect(await roundTrip(proxy.port, 'back')).toBe('back');
  });

  it('blackhole: new connections are accepted and never answered; live ones are reset', async () => {
    const live = await openConnection(proxy.port);
    await proxy.cut('blackhole');
    await settle();
    expect(live.ended()).toBeDefined();
    expect(await roundTrip(proxy.port, 'anyone?', 800)).toBe('silence');
    // Held connections are reset on restore, so nobody stays stuck on one.
    const held = await openConnection(proxy.port);
    await proxy.restore();
    await settle();
    expect(held.ended()).toBeDefined();
    expect(held.received()).toBe('');
    expect(await roundTrip(proxy.port, 'again')).toBe('again');
  });

  it('blackhole with stallOpen: live connections stay open but nothing passes', async () => {
    const live = await openConnection(proxy.port);
    live.socket.write('before');
    await settle();
    expect(live.received()).toBe('before');
    await proxy.cut('blackhole', { stallOpen: true });
    live.socket.write('during');
    await settle(800);
    expect(live.ended()).toBeUndefined();
    expect(live.received()).toBe('before');
    await proxy.restore();
    await settle();
    expect(live.ended()).toBeDefined();
    expect(await roundTrip(proxy.port, 'fine')).toBe('fine');
  });

  it('switches between modes in any order', async () => {
    await proxy.cut('blackhole');
    await proxy.cut('refuse');
    expect(await roundTrip(proxy.port, 'x')).toBe('ECONNREFUSED');
    await proxy.cut('blackhole');
    expect(await roundTrip(proxy.port, 'x', 500)).toBe('silence');
    await proxy.restore();
    await proxy.restore();
    expect(await roundTrip(proxy.port, 'ok')).toBe('ok');
  });
});

describe('private redis-server', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedisServer();
  });

  afterAll(async () => {
    await redis.stop();
  });

  it('runs on its own port, apart from the shared Redis', async () => {
    expect(redis.port).not.toBe(6379);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.running).toBe(true);
    expect(await redisCommand(redis.port, 'PING')).toBe('+PONG');
  });

  it('flushall empties it while clients stay connected', async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      await client.set('k', 'v');
      await redis.flushall();
      expect(await client.get('k')).toBeNull();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('restart kills it and brings it back empty on the same port; ioredis reconnects by itself', async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    client.on('error', () => undefined);
    try {
      await client.set('survives', 'no');
      const port = redis.port;
      await redis.restart({ downMs: 500 });
      expect(redis.port).toBe(port);
      expect(redis.running).toBe(true);
      expect(await client.get('survives')).toBeNull();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('kill leaves nothing listening until start', async () => {
    await redis.kill();
    expect(redis.running).toBe(false);
    await expect(redisCommand(redis.port, 'PING')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await redis.start();
    expect(await redisCommand(redis.port, 'PING')).toBe('+PONG');
  });
});

import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApi, type TestApi } from '../../../test/support/api.js';
import { CLIENT_TIMEOUT_MS, createApiServer } from '../src/http/server.js';

/** Security rules (v1.1), slow clients: headers or body not complete within the limit -> 408 and closed. Raw sockets. */

const SHORT_MS = 600;
let api: TestApi;
let server: Server;
let port: number;

beforeAll(async () => {
  api = await startTestApi('slowv11');
  server = createApiServer(api.app, { clientTimeoutMs: SHORT_MS });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await api?.close();
});

interface Outcome {
  answer: string;
  closedAfterMs: number;
}

/** Opens a raw socket, lets `feed` write to it, and resolves with everything read once the server closes it. */
function rawExchange(feed: (socket: Socket) => void, giveUpMs = 10_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer: Buffer.concat(chunks).toString('latin1'), closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => feed(socket));
  });
}

describe('slow clients', () => {
  it('a body trickled one byte at a time is answered 408 and closed', async () => {
    let trickle: NodeJS.Timeout | undefined;
    const outcome = await rawExchange((socket) => {
      socket.write(
        'POST /v1/events HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n' +
          `Authorization: Bearer ${api.admin.Authorization.slice('Bearer '.length)}\r\nContent-Length: 1000000\r\n\r\n{`,
      );
      trickle = setInterval(() => socket.writable && socket.write(' '), 100);
    }).finally(() => clearInterval(trickle));
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(SHORT_MS - 50);
    expect(outcome.closedAfterMs).toBeLessThan(SHORT_MS + 3_000);
  });

  it('headers that never finish are answered 408 and closed', async () => {
    const outcome = await rawExchange((socket) => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: api\r\nX-Slow: ');
    });
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(outcome.closedAfterMs).toBeLessThan(SHORT_MS + 3_000);
  });

  it('a prompt request is answered as usual on the same server', async () => {
    const outcome = await rawExchange((socket) => socket.write('GET /healthz HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n'));
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('the limit defaults to the contract\'s 30 seconds for headers and the whole request', () => {
    expect(CLIENT_TIMEOUT_MS).toBe(30_000);
    const standard = createApiServer(api.app);
    expect(standard.requestTimeout).toBe(30_000);
    expect(standard.headersTimeout).toBe(30_000);
  });
});

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** Date.now() when the request arrived. */
  at: number;
}

export type ReceiverHandler = (req: ReceivedRequest, res: ServerResponse) => unknown;

export interface Receiver {
  port: number;
  /** `http(s)://127.0.0.1:<port>` */
  origin: string;
  requests: ReceivedRequest[];
  /** Requests whose path is `path`. */
  to(path: string): ReceivedRequest[];
  setHandler(handler: ReceiverHandler): void;
  close(): Promise<void>;
}

export const okHandler: ReceiverHandler = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('ok');
};

/** A real local receiver on 127.0.0.1 that records every request it gets. */
export async function startReceiver(
  handler: ReceiverHandler = okHandler,
  tls?: { key: Buffer; cert: Buffer },
): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let current = handler;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      requests.push(received);
      Promise.resolve(current(received, res)).catch(() => res.destroy());
    });
  };
  const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    to: (path) => requests.filter((r) => r.path === path),
    setHandler(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

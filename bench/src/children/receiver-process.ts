/**
 * The receivers every delivery scenario posts to, in a process of their own so that their
 * CPU is not taken from the harness or the worker being measured. Two servers: `fast`
 * answers 200 as soon as the body is read; `hang` reads the body and never answers (the
 * worker's timeout ends those attempts). Counts are keyed by X-Webhook-Delivery, so a
 * duplicate is the same delivery arriving twice.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from './clock.js';
import { serveIpc } from './ipc.js';

export interface ReceiverStats {
  /** Requests whose body was read completely, duplicates included. */
  total: number;
  /** Distinct X-Webhook-Delivery values. */
  unique: number;
  duplicates: number;
  /** Requests without an X-Webhook-Delivery header. */
  unlabelled: number;
  firstAt: number | null;
  lastAt: number | null;
  hangOpen: number;
  hangTotal: number;
}

let counts = new Map<string, number>();
// For the first few duplicates: every X-Webhook-Attempt seen, to tell a retry from a double send.
let duplicateAttempts = new Map<string, string[]>();
let firstAttempt = new Map<string, string>();
let total = 0;
let unlabelled = 0;
let firstAt: number | null = null;
let lastAt: number | null = null;
let recordArrivals = false;
let arrivals = new Map<string, number>();
let hangOpen = 0;
let hangTotal = 0;
const hanging = new Set<ServerResponse>();

function onFast(req: IncomingMessage, res: ServerResponse): void {
  req.on('data', () => undefined);
  req.on('end', () => {
    const at = nowMs();
    const delivery = req.headers['x-webhook-delivery'];
    total++;
    if (firstAt === null) firstAt = at;
    lastAt = at;
    if (typeof delivery === 'string') {
      const seen = counts.get(delivery) ?? 0;
      counts.set(delivery, seen + 1);
      const attempt = String(req.headers['x-webhook-attempt'] ?? '?');
      if (seen === 0) firstAttempt.set(delivery, attempt);
      else if (duplicateAttempts.size < 20 || duplicateAttempts.has(delivery)) {
        const list = duplicateAttempts.get(delivery) ?? [firstAttempt.get(delivery) ?? '?'];
        list.push(attempt);
        duplicateAttempts.set(delivery, list);
      }
    } else unlabelled++;
    if (recordArrivals) {
      const eventId = req.headers['webhook-id'];
      if (typeof eventId === 'string' && !arrivals.has(eventId)) arrivals.set(eventId, at);
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
}

function onHang(req: IncomingMessage, res: ServerResponse): void {
  hangTotal++;
  hangOpen++;
  hanging.add(res);
  req.on('data', () => undefined);
  res.on('close', () => {
    hangOpen--;
    hanging.delete(res);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const fast = createServer(onFast);
fast.keepAliveTimeout = 60_000;
fast.maxRequestsPerSocket = 0;
const hang = createServer(onHang);
hang.requestTimeout = 0;
hang.headersTimeout = 0;

const [fastPort, hangPort] = await Promise.all([listen(fast), listen(hang)]);

serveIpc({
  ports: () => ({ fast: fastPort, hang: hangPort }),
  reset: (args) => {
    counts = new Map();
    duplicateAttempts = new Map();
    firstAttempt = new Map();
    arrivals = new Map();
    total = 0;
    unlabelled = 0;
    firstAt = null;
    lastAt = null;
    hangTotal = 0;
    recordArrivals = Boolean((args as { recordArrivals?: boolean } | undefined)?.recordArrivals);
    return true;
  },
  stats: (): ReceiverStats => ({
    total,
    unique: counts.size,
    duplicates: total - unlabelled - counts.size,
    unlabelled,
    firstAt,
    lastAt,
    hangOpen,
    hangTotal,
  }),
  deliveryIds: () => [...counts.keys()],
  duplicateSamples: () => Object.fromEntries(duplicateAttempts),
  arrivals: () => [...arrivals.entries()],
  closeHanging: () => {
    for (const res of hanging) res.destroy();
    return hanging.size;
  },
});
process.send?.({ ready: true });

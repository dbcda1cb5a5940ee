/**
 * A webhook receiver for `npm run dev`: prints each delivery it gets, the headers a receiver
 * cares about, and whether every signature verifies with DEV_WEBHOOK_SECRET (the secret the
 * dev webhook is created with). It answers 2xx unless asked otherwise, so retries can be tried:
 *   ?status=503       answer that status (e.g. http://127.0.0.1:4000/hooks?status=500)
 *   ?delay_ms=2000    answer after a pause (a slow receiver)
 *
 *   DEV_WEBHOOK_SECRET=whsec_... DEV_RECEIVER_PORT=4000 tsx --conditions=development scripts/dev-receiver.ts
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { verifySha1, verifySha256, verifyStandardWebhook } from '@hooklane/core';

export interface DevReceiverOptions {
  port: number;
  host?: string;
  /** The webhook's secret; without it signatures are shown but not checked. */
  secret?: string | undefined;
  print?: (text: string) => void;
}

export interface DevReceiver {
  port: number;
  server: Server;
  close(): Promise<void>;
}

const MAX_BODY_SHOWN = 600;
const MAX_DELAY_MS = 120_000;
// Headers a receiver reads; other headers are listed by name only, because a webhook's custom
// headers often carry credentials and a terminal is a log too.
const SHOWN_HEADERS = [
  'user-agent',
  'content-type',
  'webhook-id',
  'webhook-timestamp',
  'x-webhook-event',
  'x-webhook-delivery',
  'x-webhook-attempt',
] as const;
const SIGNATURE_HEADERS = ['webhook-signature', 'x-signature-256', 'x-hub-signature'] as const;
const HIDDEN_HEADERS = new Set(['host', 'connection', 'content-length', 'accept-encoding', 'accept']);

export function startDevReceiver(options: DevReceiverOptions): Promise<DevReceiver> {
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://receiver.local');
      const status = answerStatus(url.searchParams.get('status'));
      print(describeDelivery(req.method ?? 'GET', url.pathname, req.headers, body, options.secret, status));
      const delay = Math.min(Math.max(Number(url.searchParams.get('delay_ms')) || 0, 0), MAX_DELAY_MS);
      setTimeout(() => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ received: status < 300 }));
      }, delay);
    });
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolvePromise({
        port: (server.address() as AddressInfo).port,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function answerStatus(raw: string | null): number {
  const status = Number(raw);
  return Number.isInteger(status) && status >= 200 && status <= 599 ? status : 200;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The lines printed for one request; exported for tests. */
export function describeDelivery(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  secret: string | undefined,
  answeredStatus = 200,
): string {
  const event = header(headers, 'x-webhook-event') ?? '(no X-Webhook-Event)';
  const attempt = header(headers, 'x-webhook-attempt') ?? '?';
  const lines = [`${method} ${path}  ${event}  attempt ${attempt}  -> answering ${answeredStatus}`];
  for (const name of SHOWN_HEADERS) {
    const value = header(headers, name);
    if (value !== undefined) lines.push(`  ${name}: ${value}`);
  }
  for (const name of SIGNATURE_HEADERS) {
    const value = header(headers, name);
    if (value !== undefined) lines.push(`  ${name}: ${value.length > 72 ? `${value.slice(0, 72)}...` : value}`);
  }
  const others = Object.keys(headers).filter(
    (name) =>
      !HIDDEN_HEADERS.has(name) &&
      !(SHOWN_HEADERS as readonly string[]).includes(name) &&
      !(SIGNATURE_HEADERS as readonly string[]).includes(name),
  );
  if (others.length > 0) lines.push(`  other headers (values not shown): ${others.join(', ')}`);

  if (secret) {
    const mark = (ok: boolean) => (ok ? 'verified' : 'FAILED');
    const standard = verifyStandardWebhook({ body, headers, secret });
    const sha256 = verifySha256(secret, body, header(headers, 'x-signature-256'));
    const sha1 = verifySha1(secret, body, header(headers, 'x-hub-signature'));
    lines.push(
      `  signatures with DEV_WEBHOOK_SECRET: webhook-signature ${mark(standard)}, ` +
        `X-Signature-256 ${mark(sha256)}, X-Hub-Signature ${mark(sha1)}`,
    );
  } else {
    lines.push('  signatures not checked: set DEV_WEBHOOK_SECRET to the webhook secret');
  }
  const text = body.toString('utf8');
  lines.push(`  body: ${text.length > MAX_BODY_SHOWN ? `${text.slice(0, MAX_BODY_SHOWN)}...` : text}`);
  return lines.join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;

if (invokedDirectly) {
  const port = Number(process.env.DEV_RECEIVER_PORT ?? 4000);
  const secret = process.env.DEV_WEBHOOK_SECRET || undefined;
  const receiver = await startDevReceiver({ port, host: process.env.DEV_RECEIVER_HOST ?? '127.0.0.1', secret });
  process.stdout.write(
    `receiver listening on http://127.0.0.1:${receiver.port}/ (signatures ${secret ? 'checked with DEV_WEBHOOK_SECRET' : 'not checked'})\n`,
  );
  const stop = () => void receiver.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';

export interface MetricsServerOptions {
  /** `0` binds any free port; the bound one is returned. */
  port: number;
  host?: string;
  /** METRICS_TOKEN: `/metrics` then needs `Authorization: Bearer <token>`; `/healthz` stays open for probes. */
  token?: string | undefined;
  registry: Registry;
  /** False (or a throw) turns `/healthz` into a 503 so an orchestrator restarts the worker. */
  isHealthy: () => boolean | Promise<boolean>;
  logger: Logger;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The worker's only HTTP surface: `GET /metrics` for Prometheus and `GET /healthz` for
 * liveness probes. Plain node:http because it serves two fixed routes and must stay up
 * while the worker drains on SIGTERM.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, isHealthy, logger } = options;

  const server = createServer((req, res) => {
    handle(req, res, registry, isHealthy, options.token).catch((err: unknown) => {
      logger.error({ err }, 'metrics server request failed');
      if (!res.headersSent) sendJson(res, 500, { status: 'error' });
      else res.destroy();
    });
  });
  // Scrapers keep connections alive; without this close() would wait for them to time out.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'metrics server listening');

  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  registry: Registry,
  isHealthy: () => boolean | Promise<boolean>,
  token: string | undefined,
): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendJson(res, 405, { error: { code: 'method_not_allowed', message: 'Use GET', details: [] } });
    return;
  }
  if (path === '/metrics') {
    if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      sendJson(res, 401, { error: { code: 'unauthorized', message: 'Missing or invalid METRICS_TOKEN bearer token', details: [] } });
      return;
    }
    const body = await registry.metrics();
    res.writeHead(200, { 'Content-Type': registry.contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (path === '/healthz') {
    const healthy = await Promise.resolve()
      .then(isHealthy)
      .catch(() => false);
    sendJson(res, healthy ? 200 : 503, { status: healthy ? 'ok' : 'unhealthy' });
    return;
  }
  sendJson(res, 404, { error: { code: 'not_found', message: 'Not found', details: [] } });
}

/** Compares digests so that neither length nor content leaks through timing. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

import { describe, it, expect, afterEach } from '@jest/globals';
import { pino } from 'pino';
import { Registry, Counter } from 'prom-client';
import { startMetricsServer, type MetricsServer } from '../src/metrics-server.js';

/** The worker's /metrics with METRICS_HOST (bind address) and METRICS_TOKEN (bearer); /healthz stays open for probes. */

const TOKEN = 'worker-scrape-token';
let server: MetricsServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function registry(): Registry {
  const r = new Registry();
  new Counter({ name: 'webhook_delivery_attempts_total', help: 'x', registers: [r] }).inc();
  return r;
}

describe('worker metrics server', () => {
  it('with a token: 401 without it, 200 with it; /healthz open', async () => {
    server = await startMetricsServer({ port: 0, host: '127.0.0.1', token: TOKEN, registry: registry(), isHealthy: () => true, logger: pino({ level: 'silent' }) });
    const base = `http://127.0.0.1:${server.port}`;
    const missing = await fetch(`${base}/metrics`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(await missing.text()).not.toContain('webhook_delivery_attempts_total');
    expect((await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('webhook_delivery_attempts_total');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('without a token stays open, as in v1', async () => {
    server = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: registry(), isHealthy: () => true, logger: pino({ level: 'silent' }) });
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(200);
  });

  it('binds only the address given', async () => {
    server = await startMetricsServer({ port: 0, host: '127.0.0.2', registry: registry(), isHealthy: () => true, logger: pino({ level: 'silent' }) });
    expect((await fetch(`http://127.0.0.2:${server.port}/healthz`)).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();
  });
});

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '@hooklane/core';
import request from 'supertest';
import { createApp } from '../src/app.js';
import { createMetricsApp } from '../src/metrics-app.js';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

/** The API's /metrics: open on the API port by default (v1); METRICS_TOKEN asks for a bearer token; METRICS_HOST moves it to its own listener. */

const TOKEN = 'scrape-token-0123456789';
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi('metricsv11');
});

afterAll(async () => {
  await api?.close();
});

const withConfig = (env: Record<string, string>) => ({ ...api.deps, config: { ...api.deps.config, ...parseConfig(env), databaseUrl: api.deps.config.databaseUrl } });

describe('API /metrics', () => {
  it('by default is served on the API port without a token, as in v1', async () => {
    const res = await request(api.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('webhook_events_received_total');
  });

  it('with METRICS_TOKEN, answers 401 without the bearer token (or with a wrong one) and 200 with it', async () => {
    const app = createApp(withConfig({ METRICS_TOKEN: TOKEN }));
    const missing = await request(app).get('/metrics');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    expect(missing.body.error.code).toBe('unauthorized');
    expect(missing.text).not.toContain('webhook_events_received_total');
    expect((await request(app).get('/metrics').set('Authorization', 'Bearer wrong')).status).toBe(401);
    const ok = await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('webhook_events_received_total');
    // Health probes stay open.
    expect((await request(app).get('/healthz')).status).toBe(200);
  });

  it('with METRICS_HOST, leaves the API port (404) for its own listener on that address, which honours the token', async () => {
    const deps = withConfig({ METRICS_HOST: '127.0.0.1', METRICS_TOKEN: TOKEN });
    expect((await request(createApp(deps)).get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).status).toBe(404);
    const server = createMetricsApp(deps).listen(0, '127.0.0.1');
    expect(deps.config.metricsHost).toBe('127.0.0.1');
    await once(server, 'listening');
    try {
      const { address, port } = server.address() as AddressInfo;
      expect(address).toBe('127.0.0.1');
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const ok = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('webhook_deliveries_created_total');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

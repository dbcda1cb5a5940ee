import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDeliveryQueue, createRedisConnection, type DeliveryQueue } from '@hooklane/queue';
import { pino } from 'pino';
import { startMetricsServer, type MetricsServer } from '../../apps/worker/src/metrics-server.js';
import { createWorkerMetrics, type WorkerMetrics } from '../../apps/worker/src/metrics.js';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../support/redis.js';

describe('worker metrics server', () => {
  const prefix = randomQueuePrefix('metricssrv');
  const redis = createRedisConnection(TEST_REDIS_URL, 'producer');
  let queue: DeliveryQueue;
  let metrics: WorkerMetrics;
  let server: MetricsServer;
  let healthy = true;

  beforeAll(async () => {
    queue = createDeliveryQueue({ connection: redis, prefix });
    metrics = createWorkerMetrics(queue);
    server = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      isHealthy: async () => healthy,
      logger: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    await server.close();
    await queue.close();
    redis.disconnect();
    await deletePrefix(prefix);
  });

  const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;

  it('binds a real port when asked for port 0', () => {
    expect(server.port).toBeGreaterThan(0);
  });

  it('serves the registry in the Prometheus text format', async () => {
    metrics.completed.inc({ result: 'succeeded' });
    metrics.attemptDuration.observe(0.2);
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('webhook_deliveries_completed_total{result="succeeded"} 1');
    expect(text).toContain('webhook_delivery_attempt_duration_seconds_bucket{le="0.25"} 1');
    expect(text).toMatch(/webhook_queue_jobs\{state="waiting"\} 0/);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('answers /healthz 200 while healthy and 503 once not', async () => {
    const ok = await fetch(url('/healthz'));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ok' });

    healthy = false;
    try {
      const down = await fetch(url('/healthz'));
      expect(down.status).toBe(503);
      expect(((await down.json()) as { status: string }).status).not.toBe('ok');
    } finally {
      healthy = true;
    }
  });

  it('treats a health check that throws as unhealthy instead of crashing', async () => {
    const other = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      isHealthy: () => {
        throw new Error('boom');
      },
      logger: pino({ level: 'silent' }),
    });
    try {
      const res = await fetch(`http://127.0.0.1:${other.port}/healthz`);
      expect(res.status).toBe(503);
    } finally {
      await other.close();
    }
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    expect((await fetch(url('/nope'))).status).toBe(404);
    expect((await fetch(url('/metrics'), { method: 'POST' })).status).toBe(405);
  });

  it('stops listening after close', async () => {
    const other = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      isHealthy: () => true,
      logger: pino({ level: 'silent' }),
    });
    const port = other.port;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await other.close();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});

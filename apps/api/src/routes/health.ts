import { withTimeout } from '@hooklane/core';
import { probePartitions } from '@hooklane/queue';
import { Router } from 'express';
import type { AppDeps } from '../deps.js';

const READY_TIMEOUT_MS = 1500;


export function healthRoutes({ config, db, redis, metrics }: Pick<AppDeps, 'config' | 'db' | 'redis' | 'metrics'>): Router {
  const router = Router();
  router.get('/metrics', async (_req, res, next) => {
    try {
      res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
    } catch (err) {
      next(err);
    }
  });
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [postgres, redisOk] = await Promise.all([
      withTimeout(db.$queryRaw`SELECT 1`, READY_TIMEOUT_MS).then(() => true, () => false),
      // Every partition's master, not just any node: a dead shard stops the partitions it holds.
      withTimeout(probePartitions(redis, config), READY_TIMEOUT_MS).then(() => true, () => false),
    ]);
    const ready = postgres && redisOk;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ok' : 'unavailable',
      checks: { postgres: postgres ? 'ok' : 'down', redis: redisOk ? 'ok' : 'down' },
    });
  });
  return router;
}

import express, { type Express } from 'express';
import type { AppDeps } from './deps.js';
import { errorHandler, notFoundRoute } from './http/errors.js';
import { requireMetricsToken } from './http/metrics-access.js';
import { healthRoutes } from './routes/health.js';

/**
 * The API's private listener, used when METRICS_HOST is set: `/metrics` (and the health
 * probes) on METRICS_HOST:METRICS_PORT, so the public port need not expose them.
 */
export function createMetricsApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use('/metrics', requireMetricsToken(deps.config.metricsToken));
  app.use(healthRoutes(deps));
  app.use(notFoundRoute);
  app.use(errorHandler(deps.logger));
  return app;
}

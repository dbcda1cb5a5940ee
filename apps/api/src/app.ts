import express, { type Express } from 'express';
import type { AppDeps } from './deps.js';
import { authenticate } from './http/auth.js';
import { jsonBody } from './http/body.js';
import { errorHandler, notFoundRoute } from './http/errors.js';
import { requireMetricsToken } from './http/metrics-access.js';
import { apiKeysRoutes } from './routes/api-keys.js';
import { deliveriesRoutes } from './routes/deliveries.js';
import { erasureRoutes } from './routes/erasure.js';
import { eventTypesRoutes } from './routes/event-types.js';
import { eventsRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { openApiRoutes } from './openapi/document.js';
import { portalPageRoutes } from './portal/page-routes.js';
import { portalSessionGuard } from './portal/session-guard.js';
import { portalSessionsRoutes } from './portal/session-routes.js';
import { createPortalTokens, portalSigningKey } from './portal/session-token.js';
import { webhookDeliveriesRoutes } from './routes/webhook-deliveries.js';
import { webhooksRoutes } from './routes/webhooks.js';

/** Builds the API without listening, so tests drive it with supertest against real services. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // With METRICS_HOST set, /metrics lives on its own listener (metrics-app.ts), not here.
  app.use('/metrics', deps.config.metricsHost ? notFoundRoute : requireMetricsToken(deps.config.metricsToken));
  app.use(healthRoutes(deps));

  const { config } = deps;
  const portalTokens = createPortalTokens(portalSigningKey(config.portalSecret, config.adminToken));
  const v1 = express.Router();
  v1.use(authenticate({ db: deps.db, apiKeys: deps.apiKeys, adminToken: config.adminToken, verifyPortalToken: portalTokens.verify }));
  v1.use(jsonBody);
  v1.use(portalSessionGuard(deps.db));
  v1.use(portalSessionsRoutes(portalTokens));
  v1.use(apiKeysRoutes(deps));
  v1.use(webhooksRoutes(deps));
  v1.use(webhookDeliveriesRoutes(deps));
  v1.use(erasureRoutes(deps));
  v1.use(eventsRoutes(deps));
  v1.use(deliveriesRoutes(deps));
  v1.use(eventTypesRoutes(deps));
  app.use('/v1', v1);
  app.use(openApiRoutes());
  app.use(portalPageRoutes({ assetsDir: config.portalAssetsDir, frameAncestors: config.portalFrameAncestors }));

  app.use(notFoundRoute);
  app.use(errorHandler(deps.logger));
  return app;
}

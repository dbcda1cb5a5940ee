import express, { type Express } from 'express';
import type { AppDeps } from './deps.js';
import { authenticate } from './http/auth.js';
import { jsonBody } from './http/body.js';
import { errorHandler, notFoundRoute } from './http/errors.js';
import { apiKeysRoutes } from './routes/api-keys.js';
import { deliveriesRoutes } from './routes/deliveries.js';
import { eventTypesRoutes } from './routes/event-types.js';
import { eventsRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { openApiRoutes } from './openapi/document.js';
import { webhookDeliveriesRoutes } from './routes/webhook-deliveries.js';
import { webhooksRoutes } from './routes/webhooks.js';

/** Builds the API without listening, so tests drive it with supertest against real services. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(healthRoutes(deps));

  const v1 = express.Router();
  v1.use(authenticate({ db: deps.db, apiKeys: deps.apiKeys, adminToken: deps.config.adminToken }));
  v1.use(jsonBody);
  v1.use(apiKeysRoutes(deps));
  v1.use(webhooksRoutes(deps));
  v1.use(webhookDeliveriesRoutes(deps));
  v1.use(eventsRoutes(deps));
  v1.use(deliveriesRoutes(deps));
  v1.use(eventTypesRoutes(deps));
  app.use('/v1', v1);
  app.use(openApiRoutes());

  app.use(notFoundRoute);
  app.use(errorHandler(deps.logger));
  return app;
}

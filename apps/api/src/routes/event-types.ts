import { listEventTypes } from '@hooklane/core';
import { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { methodNotAllowed } from '../http/errors.js';
import { errorResponses, registerRoute } from '../openapi/registry.js';

const eventTypeListSchema = z
  .object({
    data: z.array(
      z.object({
        type: z.string().meta({ examples: ['labeling_job.completed'] }),
        description: z.string(),
        schema: z.record(z.string(), z.unknown()).meta({ description: 'JSON Schema (draft 2020-12) of the event data' }),
      }),
    ),
  })
  .meta({ id: 'EventTypeList' });

registerRoute({
  method: 'get',
  path: '/v1/event-types',
  summary: 'The event catalog, with a JSON Schema of each type\'s data',
  tags: ['Events'],
  responses: { 200: { description: 'Every event type', schema: eventTypeListSchema }, ...errorResponses(401) },
});

export function eventTypesRoutes(_deps: AppDeps): Router {
  const router = Router();
  router
    .route('/event-types')
    .get((_req, res) => {
      res.json({ data: listEventTypes() });
    })
    .all(methodNotAllowed);
  return router;
}

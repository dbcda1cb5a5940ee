import { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { authOf } from '../http/auth.js';
import { errorBody, methodNotAllowed } from '../http/errors.js';
import { findEventForAuth, toEventResponse } from '../ingest/event-response.js';
import {
  batchInputSchema,
  batchResultSchema,
  eventAcceptedSchema,
  eventInputSchema,
  eventResponseSchema,
  MAX_BATCH_EVENTS,
} from '../ingest/event-schemas.js';
import { prepareBatch } from '../ingest/prepare-batch.js';
import { IDEMPOTENCY_HEADER, parseIdempotencyHeader, prepareEvent } from '../ingest/prepare-event.js';
import { errorResponses, registerRoute } from '../openapi/registry.js';

const tags = ['Events'];

registerRoute({
  method: 'post',
  path: '/v1/events',
  summary: 'Emit an event: store it, fan it out to every subscribed webhook, queue the deliveries',
  description:
    `Answers 202 once the event and its deliveries are committed. An \`${IDEMPOTENCY_HEADER}\` header ` +
    '(or `idempotency_key` field) makes a repeat by the same team within 24 hours return the first reply ' +
    'and create nothing (the reply then carries `Idempotent-Replayed: true`).',
  tags,
  body: eventInputSchema,
  responses: {
    202: { description: 'Stored; deliveries queued', schema: eventAcceptedSchema },
    ...errorResponses(400, 401, 403, 409, 413, 415, 503),
  },
});
registerRoute({
  method: 'post',
  path: '/v1/events/batch',
  summary: `Emit 1 to ${MAX_BATCH_EVENTS} events at once`,
  description:
    'Each event is checked on its own: its result is `{event_id, deliveries}` or `{error}`, in input order. ' +
    `An \`${IDEMPOTENCY_HEADER}\` header covers each event without its own key as \`<key>#<index>\`.`,
  tags,
  body: batchInputSchema,
  responses: {
    202: { description: 'Valid events stored and queued', schema: batchResultSchema },
    ...errorResponses(400, 401, 409, 413, 415, 503),
  },
});
registerRoute({
  method: 'get',
  path: '/v1/events/{id}',
  summary: 'Get an event and the deliveries made for it',
  tags,
  responses: { 200: { description: 'The event', schema: eventResponseSchema }, ...errorResponses(401, 404) },
});

export function eventsRoutes(deps: AppDeps): Router {
  const router = Router();

  router
    .route('/events')
    .post(async (req, res) => {
      const headerKey = parseIdempotencyHeader(req.get(IDEMPOTENCY_HEADER));
      const event = prepareEvent(req.body, authOf(res), headerKey);
      const [result] = await deps.ingest([event]);
      if (result?.replayed) res.set('Idempotent-Replayed', 'true');
      res.status(202).json({ event_id: result?.eventId, deliveries: result?.deliveries });
    })
    .all(methodNotAllowed);

  router
    .route('/events/batch')
    .post(async (req, res) => {
      const headerKey = parseIdempotencyHeader(req.get(IDEMPOTENCY_HEADER));
      const items = prepareBatch(req.body, authOf(res), headerKey);
      const valid = items.flatMap((item) => (item.ok ? [item.event] : []));
      const stored = await deps.ingest(valid);
      let next = 0;
      const results = items.map((item) => {
        if (!item.ok) return errorBody(item.error.code, item.error.message, item.error.details);
        const result = stored[next++];
        return { event_id: result?.eventId, deliveries: result?.deliveries };
      });
      res.status(202).json({ results });
    })
    .all(methodNotAllowed);

  router
    .route('/events/:id')
    .get(async (req, res) => {
      res.json(toEventResponse(await findEventForAuth(deps.db, authOf(res), req.params.id)));
    })
    .all(methodNotAllowed);

  return router;
}

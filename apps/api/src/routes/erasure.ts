import { isId } from '@hooklane/core';
import { enqueueCreated, eraseEvent, eraseTeam } from '@hooklane/db';
import { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { waitForInFlightAttempts } from '../erasure/in-flight.js';
import { audit } from '../http/audit.js';
import { authOf, requireAdmin } from '../http/auth.js';
import { badRequest, notFound } from '../http/errors.js';
import { errorResponses, registerRoute } from '../openapi/registry.js';
import { teamIdSchema } from '../webhooks/schemas.js';

const erasedTeamSchema = z
  .object({ webhooks: z.int(), events: z.int(), deliveries: z.int(), api_keys: z.int() })
  .meta({ id: 'ErasedTeam' });

registerRoute({
  method: 'delete',
  path: '/v1/events/{id}',
  summary: 'Erase an event: its payload, its deliveries and their attempt logs',
  description:
    'Pending deliveries are cancelled first and nothing more is sent once this answers; afterwards the event ' +
    'and each of its deliveries are 404. A repeat is 404.',
  tags: ['Events'],
  responses: { 204: { description: 'Erased' }, ...errorResponses(401, 404, 503) },
});
registerRoute({
  method: 'delete',
  path: '/v1/teams/{team_id}',
  summary: 'Erase everything of a team (admin token only): webhooks, events, deliveries, attempts, keys',
  description: 'Counts what was removed; a team with nothing left gives zeros. Its keys answer 401 afterwards.',
  tags: ['Auth'],
  responses: { 200: { description: 'What was erased', schema: erasedTeamSchema }, ...errorResponses(400, 401, 403, 503) },
});

/**
 * Mounted before the events routes, whose `/events/:id` answers 405 to any method it does
 * not serve. Both routes answer only once every attempt that could still reach a receiver
 * has ended (see erasure/in-flight.ts).
 */
export function erasureRoutes(deps: AppDeps): Router {
  const { db } = deps;
  const router = Router();
  const inFlight = (webhookIds: string[]) =>
    waitForInFlightAttempts({ redis: deps.redis, queues: deps.queues, webhookIds });

  router.delete('/events/:id', async (req, res) => {
    const id = req.params.id;
    const auth = authOf(res);
    const erased = isId('evt', id) ? await eraseEvent(db, id, auth.kind === 'team' ? auth.teamId : null) : null;
    if (!erased) throw notFound('Event');
    await inFlight(erased.pendingWebhookIds);
    await enqueueCreated(deps.outbox, deps.logger, erased.woken);
    deps.logger.info({ event_id: id, deliveries: erased.deliveries }, 'event erased');
    res.status(204).end();
  });

  router.delete('/teams/:team_id', requireAdmin, async (req, res) => {
    const raw = String(req.params.team_id);
    const parsed = teamIdSchema.safeParse(/^\d{1,10}$/.test(raw) ? Number(raw) : NaN);
    if (!parsed.success) throw badRequest('team_id must be a positive integer', [{ path: 'team_id', message: 'expected a positive integer' }]);
    // Refused by every API process within a second (api-key-cache.ts), before the rows go.
    const auth = authOf(res);
    for (const keyId of await deps.apiKeys.revokeTeam(parsed.data)) {
      audit(deps.logger, 'api_key.revoked', auth, { key_id: keyId, team_id: parsed.data, via: 'team_erasure' });
    }
    const first = await eraseTeam(db, parsed.data);
    await inFlight(first.webhookIds);
    // Rows an ingest racing the first pass committed after it (see eraseTeam).
    const late = await eraseTeam(db, parsed.data, first.webhookIds);
    const counts = {
      webhooks: first.webhooks + late.webhooks,
      events: first.events + late.events,
      deliveries: first.deliveries + late.deliveries,
      api_keys: first.apiKeys + late.apiKeys,
    };
    deps.logger.info({ team_id: parsed.data, ...counts }, 'team erased');
    res.json(counts);
  });

  return router;
}

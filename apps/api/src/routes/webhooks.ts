import { enqueueCreated } from '@hooklane/db';
import { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { audit } from '../http/audit.js';
import { assertTeamAllowed, authOf, teamFilter } from '../http/auth.js';
import { badRequest, conflict, methodNotAllowed, notFound } from '../http/errors.js';
import { errorResponses, registerRoute } from '../openapi/registry.js';
import { findWebhookForAuth } from '../webhooks/find.js';
import { listWebhooksQuerySchema } from '../webhooks/list-query.js';
import { parseInput } from '../webhooks/parse-input.js';
import { deleteWebhook, listWebhooks, rotateSecret, updateWebhook } from '../webhooks/queries.js';
import {
  createdWebhookResponseSchema,
  createWebhookSchema,
  rotateSecretSchema,
  secretResponseSchema,
  updateWebhookSchema,
  webhookListResponseSchema,
  webhookResponseSchema,
} from '../webhooks/schemas.js';
import { toWebhookResponse } from '../webhooks/serialize.js';
import { createWithinTeamLimit } from '../webhooks/team-limit.js';
import { newWebhookRow, webhookChanges } from '../webhooks/to-row.js';
import { assertTargetAllowed } from '../webhooks/url-rules.js';

const tags = ['Webhooks'];

registerRoute({
  method: 'post',
  path: '/v1/webhooks',
  summary: 'Create a webhook',
  tags,
  body: createWebhookSchema,
  responses: { 201: { description: 'Created; the only response that carries the secret', schema: createdWebhookResponseSchema }, ...errorResponses(400, 401, 403, 409, 413, 415) },
});
registerRoute({
  method: 'get',
  path: '/v1/webhooks',
  summary: 'List webhooks, oldest first',
  tags,
  query: listWebhooksQuerySchema,
  responses: { 200: { description: 'One page', schema: webhookListResponseSchema }, ...errorResponses(400, 401, 403) },
});
registerRoute({
  method: 'get',
  path: '/v1/webhooks/{id}',
  summary: 'Get a webhook',
  tags,
  responses: { 200: { description: 'The webhook', schema: webhookResponseSchema }, ...errorResponses(401, 404) },
});
registerRoute({
  method: 'patch',
  path: '/v1/webhooks/{id}',
  summary: 'Change the fields given',
  tags,
  body: updateWebhookSchema,
  responses: { 200: { description: 'The changed webhook', schema: webhookResponseSchema }, ...errorResponses(400, 401, 403, 404, 413, 415) },
});
registerRoute({
  method: 'delete',
  path: '/v1/webhooks/{id}',
  summary: 'Delete a webhook and cancel its pending deliveries',
  tags,
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 404) },
});
registerRoute({
  method: 'get',
  path: '/v1/webhooks/{id}/secret',
  summary: 'Get the signing secret',
  tags,
  responses: { 200: { description: 'The current secret', schema: secretResponseSchema }, ...errorResponses(401, 404) },
});
registerRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/secret/rotate',
  summary: 'Rotate the signing secret; the old one keeps signing for 24 hours',
  tags,
  body: rotateSecretSchema,
  responses: { 200: { description: 'The new secret', schema: secretResponseSchema }, ...errorResponses(400, 401, 404, 409) },
});

type WebhookRouteDeps = Pick<AppDeps, 'db' | 'config' | 'logger' | 'outbox'>;

export function webhooksRoutes(deps: AppDeps): Router {
  const router = Router();
  collectionRoutes(router, deps);
  itemRoutes(router, deps);
  secretRoutes(router, deps);
  return router;
}

/** `/webhooks`: create and list. */
function collectionRoutes(router: Router, { db, config }: WebhookRouteDeps): void {
  router
    .route('/webhooks')
    .post(async (req, res) => {
      const auth = authOf(res);
      const input = parseInput(createWebhookSchema, req.body);
      assertTeamAllowed(auth, input.team_id);
      assertTargetAllowed(input.url, config.allowPrivateTargets);
      const row = await createWithinTeamLimit(db, newWebhookRow(input), config.maxWebhooksPerTeam);
      res.status(201).json({ ...toWebhookResponse(row), secret: row.secret });
    })
    .get(async (req, res) => {
      const query = parseInput(listWebhooksQuerySchema, req.query, 'Query');
      const teamId = teamFilter(authOf(res), query.team_id);
      const page = await listWebhooks(db, teamId, query);
      res.json({ data: page.rows.map(toWebhookResponse), next_cursor: page.nextCursor });
    })
    .all(methodNotAllowed);
}

/** `/webhooks/:id`: read, change, delete. */
function itemRoutes(router: Router, { db, config, logger, outbox }: WebhookRouteDeps): void {
  router
    .route('/webhooks/:id')
    .get(async (req, res) => {
      const webhook = await findWebhookForAuth(db, authOf(res), req.params.id);
      res.json(toWebhookResponse(webhook));
    })
    .patch(async (req, res) => {
      const auth = authOf(res);
      const current = await findWebhookForAuth(db, auth, req.params.id);
      const input = parseInput(updateWebhookSchema, req.body);
      if (input.team_id !== undefined) {
        assertTeamAllowed(auth, input.team_id);
        if (input.team_id !== current.teamId) {
          throw badRequest('Request body is invalid', [{ path: 'team_id', message: 'A webhook cannot move to another team' }]);
        }
      }
      if (input.url !== undefined) assertTargetAllowed(input.url, config.allowPrivateTargets);
      const updated = await updateWebhook(db, current, webhookChanges(input, current, new Date()));
      if (!updated) throw notFound('Webhook');
      await enqueueCreated(outbox, logger, updated.woken);
      if (input.secret !== undefined) audit(logger, 'webhook.secret_rotated', auth, { webhook_id: current.id, team_id: current.teamId, via: 'patch' });
      res.json(toWebhookResponse(await findWebhookForAuth(db, auth, current.id)));
    })
    .delete(async (req, res) => {
      const webhook = await findWebhookForAuth(db, authOf(res), req.params.id);
      if (!(await deleteWebhook(db, webhook.id))) throw notFound('Webhook');
      res.status(204).end();
    })
    .all(methodNotAllowed);
}

/** `/webhooks/:id/secret` and its rotation, each audited. */
function secretRoutes(router: Router, { db, logger }: WebhookRouteDeps): void {
  router
    .route('/webhooks/:id/secret')
    .get(async (req, res) => {
      const auth = authOf(res);
      const webhook = await findWebhookForAuth(db, auth, req.params.id);
      audit(logger, 'webhook.secret_revealed', auth, { webhook_id: webhook.id, team_id: webhook.teamId });
      res.json({ secret: webhook.secret });
    })
    .all(methodNotAllowed);

  router
    .route('/webhooks/:id/secret/rotate')
    .post(async (req, res) => {
      const auth = authOf(res);
      const webhook = await findWebhookForAuth(db, auth, req.params.id);
      const input = parseInput(rotateSecretSchema, req.body ?? {});
      const secret = await rotateSecret(db, webhook, input.secret);
      if (secret === null) throw conflict('The webhook changed while rotating its secret; try again');
      audit(logger, 'webhook.secret_rotated', auth, { webhook_id: webhook.id, team_id: webhook.teamId });
      res.json({ secret });
    })
    .all(methodNotAllowed);
}

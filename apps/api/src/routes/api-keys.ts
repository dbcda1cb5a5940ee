import { isId, newId } from '@hooklane/core';
import { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { audit } from '../http/audit.js';
import { authOf, hashApiKey, requireAdmin } from '../http/auth.js';
import { methodNotAllowed, notFound } from '../http/errors.js';
import { errorResponses, registerRoute } from '../openapi/registry.js';
import { createApiKeySchema, createdApiKeySchema, generateApiKey } from '../webhooks/api-keys.js';
import { parseInput } from '../webhooks/parse-input.js';

const tags = ['Auth'];

registerRoute({
  method: 'post',
  path: '/v1/api-keys',
  summary: 'Create a team key (admin token only); the key is shown once',
  tags,
  body: createApiKeySchema,
  responses: { 201: { description: 'The new key', schema: createdApiKeySchema }, ...errorResponses(400, 401, 403, 413, 415) },
});
registerRoute({
  method: 'delete',
  path: '/v1/api-keys/{id}',
  summary: 'Revoke a team key (admin token only); it is refused from then on',
  tags,
  responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 403, 404) },
});

export function apiKeysRoutes({ db, logger, apiKeys }: AppDeps): Router {
  const router = Router();

  router
    .route('/api-keys')
    .post(requireAdmin, async (req, res) => {
      const input = parseInput(createApiKeySchema, req.body);
      const key = generateApiKey();
      const row = await db.apiKey.create({ data: { id: newId('key'), teamId: input.team_id, keyHash: hashApiKey(key) } });
      audit(logger, 'api_key.created', authOf(res), { key_id: row.id, team_id: row.teamId });
      res.status(201).json({ id: row.id, team_id: row.teamId, key });
    })
    .all(methodNotAllowed);

  router
    .route('/api-keys/:id')
    .delete(requireAdmin, async (req, res) => {
      const id = req.params.id;
      const revoked = isId('key', id) ? await apiKeys.revokeKeys([id]) : 0;
      if (revoked === 0) throw notFound('API key');
      audit(logger, 'api_key.revoked', authOf(res), { key_id: id });
      res.status(204).end();
    })
    .all(methodNotAllowed);

  return router;
}

import { Router, type Request } from 'express';
import { z } from 'zod';
import { assertTeamAllowed, authOf } from '../http/auth.js';
import { forbidden, methodNotAllowed, unavailable } from '../http/errors.js';
import { errorResponses, registerRoute } from '../openapi/registry.js';
import { parseInput } from '../webhooks/parse-input.js';
import { projectIdSchema, teamIdSchema } from '../webhooks/schemas.js';
import type { PortalTokens } from './session-token.js';

export const createPortalSessionSchema = z
  .strictObject({
    team_id: teamIdSchema,
    project_id: projectIdSchema.optional().meta({ description: "Limit the session to this project's webhooks" }),
    expires_in: z.int().min(60).max(86_400).default(3600).meta({ description: 'Seconds until the session ends' }),
    read_only: z.boolean().default(false).meta({ description: 'Only reads are allowed' }),
  })
  .meta({ id: 'PortalSessionCreate' });

const portalSessionSchema = z
  .object({
    token: z.string().meta({ description: 'Bearer token for the team routes the session may use' }),
    url: z.string().meta({ description: 'The dashboard opened on this session, to embed in an iframe' }),
    expires_at: z.string(),
  })
  .meta({ id: 'PortalSession' });

registerRoute({
  method: 'post',
  path: '/v1/portal-sessions',
  summary: 'Open a dashboard session for one team (admin, or a team key for its own team)',
  description:
    'The token works as a bearer token on the team\'s webhook, delivery and event-reading routes and the ' +
    'event catalog only (403 elsewhere; read_only sessions may only read); expired or tampered tokens are 401.',
  tags: ['Portal'],
  body: createPortalSessionSchema,
  responses: { 201: { description: 'The session', schema: portalSessionSchema }, ...errorResponses(400, 401, 403, 413, 415, 503) },
});

/** The API's own address as the caller reached it, so the URL works from where it was asked. */
function baseUrlOf(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

export function portalSessionsRoutes(tokens: PortalTokens): Router {
  const router = Router();
  router
    .route('/portal-sessions')
    .post((req, res) => {
      const auth = authOf(res);
      if (auth.kind === 'team' && auth.portal) throw forbidden('A portal session may not open another one');
      const input = parseInput(createPortalSessionSchema, req.body);
      assertTeamAllowed(auth, input.team_id);
      if (!tokens.enabled) throw unavailable('Portal sessions need PORTAL_SECRET or ADMIN_TOKEN to be set');
      const expiresAt = Math.floor(Date.now() / 1000) + input.expires_in;
      const token = tokens.sign({
        teamId: input.team_id,
        projectId: input.project_id ?? null,
        readOnly: input.read_only,
        expiresAt,
      });
      res.status(201).json({
        token,
        url: `${baseUrlOf(req)}/portal#token=${token}`,
        expires_at: new Date(expiresAt * 1000).toISOString(),
      });
    })
    .all(methodNotAllowed);
  return router;
}

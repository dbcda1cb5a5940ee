import { isId } from '@hooklane/core';
import type { Db } from '@hooklane/db';
import type { Request, RequestHandler, Response } from 'express';
import { authOf, type PortalScope } from '../http/auth.js';
import { forbidden, notFound } from '../http/errors.js';

/**
 * What a portal session may reach, checked once for every /v1 request it makes: the team's
 * webhook, delivery and event-reading routes and the catalog; nothing that mints credentials,
 * emits or erases. The team itself is confined by the routes' usual team-key checks (a session
 * authenticates as a team); this adds the route list, read-only and the project scope.
 */
type Target = 'webhooks' | 'webhook' | 'delivery' | 'event' | 'catalog';

interface AllowedRoute {
  methods: readonly string[];
  path: RegExp;
  target: Target;
}

const ID = '([^/]+)';
const ALLOWED: readonly AllowedRoute[] = [
  { methods: ['GET', 'POST'], path: /^\/webhooks\/?$/, target: 'webhooks' },
  { methods: ['GET', 'PATCH', 'DELETE'], path: new RegExp(`^/webhooks/${ID}/?$`), target: 'webhook' },
  { methods: ['GET'], path: new RegExp(`^/webhooks/${ID}/(secret|deliveries)/?$`), target: 'webhook' },
  { methods: ['POST'], path: new RegExp(`^/webhooks/${ID}/(secret/rotate|test|recover)/?$`), target: 'webhook' },
  { methods: ['GET'], path: new RegExp(`^/deliveries/${ID}/?$`), target: 'delivery' },
  { methods: ['POST'], path: new RegExp(`^/deliveries/${ID}/redeliver/?$`), target: 'delivery' },
  { methods: ['GET'], path: new RegExp(`^/events/${ID}/?$`), target: 'event' },
  { methods: ['GET'], path: /^\/event-types\/?$/, target: 'catalog' },
];

const READS = new Set(['GET', 'HEAD']);

function routeOf(method: string, path: string): { target: Target; id: string | undefined } | undefined {
  const asked = method === 'HEAD' ? 'GET' : method;
  for (const route of ALLOWED) {
    const match = route.path.exec(path);
    if (match && route.methods.includes(asked)) return { target: route.target, id: match[1] };
  }
  return undefined;
}

/** Project-scoped sessions: the listing is narrowed to the project, a create lands in it. */
function scopeCollection(req: Request, projectId: number): void {
  if (req.method === 'POST') {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return; // the route answers 400
    if (!('project_id' in body)) body.project_id = projectId;
    else if (body.project_id !== projectId) throw forbidden('This portal session is limited to project ' + projectId);
    return;
  }
  const asked = new URL(req.url, 'http://portal.invalid').searchParams.getAll('project_id');
  if (asked.length === 0) {
    // Express 5 parses req.query from req.url on each read, so this narrows what the route sees.
    req.url += (req.url.includes('?') ? '&' : '?') + `project_id=${projectId}`;
  } else if (asked.some((value) => value !== String(projectId))) {
    throw forbidden('This portal session is limited to project ' + projectId);
  }
}

/** Another project's object is a 404, as another team's is: a session cannot probe for ids. */
async function assertInProject(db: Db, req: Request, target: Target, id: string, teamId: number, projectId: number): Promise<void> {
  if (target === 'webhook' && isId('wh', id)) {
    const row = await db.webhook.findFirst({ where: { id, teamId }, select: { projectId: true } });
    if (row && row.projectId !== projectId) throw notFound('Webhook');
    const body = req.body as Record<string, unknown> | undefined;
    if (req.method === 'PATCH' && body && typeof body === 'object' && 'project_id' in body && body.project_id !== projectId) {
      throw forbidden('This portal session is limited to project ' + projectId);
    }
  } else if (target === 'delivery' && isId('dlv', id)) {
    const row = await db.delivery.findFirst({ where: { id, teamId }, select: { webhook: { select: { projectId: true } } } });
    if (row && row.webhook.projectId !== projectId) throw notFound('Delivery');
  } else if (target === 'event' && isId('evt', id)) {
    const row = await db.event.findFirst({ where: { id, teamId }, select: { projectId: true } });
    if (row && row.projectId !== projectId) throw notFound('Event');
  }
}

/**
 * An event of the project may also have gone to the team's all-project webhooks; the
 * session must not learn their ids, so its `deliveries` keep only this project's.
 */
async function hideOtherProjectsDeliveries(db: Db, res: Response, eventId: string, projectId: number): Promise<void> {
  if (!isId('evt', eventId)) return;
  const visible = await db.delivery.findMany({ where: { eventId, webhook: { projectId } }, select: { id: true } });
  const ids = new Set(visible.map((d) => d.id));
  const json = res.json.bind(res);
  res.json = (body: unknown) => {
    const event = body as { deliveries?: Array<{ id: string }> } | null;
    if (res.statusCode === 200 && event && Array.isArray(event.deliveries)) {
      return json({ ...event, deliveries: event.deliveries.filter((d) => ids.has(d.id)) });
    }
    return json(body);
  };
}

async function checkScope(db: Db, req: Request, res: Response, teamId: number, scope: PortalScope): Promise<void> {
  const route = routeOf(req.method, req.path);
  if (!route) throw forbidden('A portal session may not use this route');
  if (scope.readOnly && !READS.has(req.method)) throw forbidden('This portal session is read-only');
  if (scope.projectId === null) return;
  if (route.target === 'webhooks') scopeCollection(req, scope.projectId);
  else if (route.id !== undefined) await assertInProject(db, req, route.target, route.id, teamId, scope.projectId);
  if (route.target === 'event' && route.id !== undefined) await hideOtherProjectsDeliveries(db, res, route.id, scope.projectId);
}

/** Runs after authentication and body parsing, before the /v1 routes. */
export function portalSessionGuard(db: Db): RequestHandler {
  return (req, res, next) => {
    const auth = authOf(res);
    if (auth.kind !== 'team' || !auth.portal) return next();
    checkScope(db, req, res, auth.teamId, auth.portal).then(() => next(), next);
  };
}

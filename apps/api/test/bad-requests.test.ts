import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

/**
 * Bad input of every kind gets its 4xx and the contract's error shape, and never a 5xx
 * or a half-made object.
 */

let api: TestApi;
let hookId: string;
const TEAM = 5;
const good = { team_id: TEAM, url: 'https://example.com/hook', events: ['ping'] };

interface Case {
  name: string;
  method?: 'get' | 'post' | 'patch' | 'delete';
  path?: string;
  /** An object is sent as JSON; a string is sent raw with `type`. */
  body?: unknown;
  type?: string;
  query?: Record<string, string>;
  status: number;
  /** A detail path the answer must name. */
  field?: string;
}

const create = (overrides: Record<string, unknown>, name: string, status = 400, field?: string): Case => ({
  name,
  body: { ...good, ...overrides },
  status,
  field: field ?? Object.keys(overrides)[0],
});
const listing = (query: Record<string, string>, name: string, field?: string): Case => ({
  name,
  method: 'get',
  query,
  status: 400,
  field: field ?? Object.keys(query)[0],
});
const filter = (value: unknown, name: string, field = 'filters'): Case =>
  listing({ filters: typeof value === 'string' ? value : JSON.stringify(value) }, name, field);

const cases: Case[] = [
  // Missing and wrongly typed fields.
  { name: 'no body', body: undefined, status: 400 },
  { name: 'body is an array', body: [good], status: 400 },
  { name: 'body is a JSON string', body: '"hello"', type: 'application/json', status: 400 },
  create({ team_id: undefined }, 'missing team_id', 400, 'team_id'),
  create({ url: undefined }, 'missing url', 400, 'url'),
  create({ events: undefined }, 'neither events nor action', 400, 'events'),
  create({ team_id: '5' }, 'team_id as a string'),
  create({ team_id: 0 }, 'team_id zero'),
  create({ team_id: 1.5 }, 'team_id fractional'),
  create({ team_id: 2 ** 31 }, 'team_id beyond PostgreSQL integer'),
  create({ project_id: 'all' }, 'project_id as a string'),
  create({ project_id: -3 }, 'project_id negative'),
  // URL rules.
  create({ url: 'ftp://example.com/hook' }, 'url with ftp'),
  create({ url: 'javascript:alert(1)' }, 'url with javascript:'),
  create({ url: 'not a url' }, 'url not a URL'),
  create({ url: `https://example.com/${'a'.repeat(2040)}` }, 'url over 2048 characters'),
  create({ url: 'https://user:pass@example.com/hook' }, 'url with credentials'),
  create({ url: 'https://example.com/a\r\nb' }, 'url with CR/LF'),
  create({ url: 42 }, 'url as a number'),
  // Events.
  create({ events: [] }, 'events empty'),
  create({ events: ['no.such.event'] }, 'events unknown type', 400, 'events.0'),
  create({ events: 'ping' }, 'events as a string'),
  create({ events: ['*', 'ping'] }, 'events "*" with others'),
  create({ events: undefined, action: 'nope' }, 'action unknown type', 400, 'action'),
  create({ events: undefined, action: ['ping'] }, 'action as an array', 400, 'action'),
  // Headers.
  create({ headers: { 'Content-Type': 'text/plain' } }, 'header Content-Type', 400, 'headers.Content-Type'),
  create({ headers: { 'content-length': '1' } }, 'header content-length', 400, 'headers.content-length'),
  create({ headers: { 'webhook-id': 'x' } }, 'header webhook-id', 400, 'headers.webhook-id'),
  create({ headers: { 'X-Webhook-Delivery': 'x' } }, 'header X-Webhook-Delivery', 400, 'headers.X-Webhook-Delivery'),
  create({ headers: { 'X-Hub-Signature': 'sha1=x' } }, 'header X-Hub-Signature', 400, 'headers.X-Hub-Signature'),
  create({ headers: { 'X-Ok': 'a\r\nInjected: yes' } }, 'header value with CR/LF', 400, 'headers.X-Ok'),
  create({ headers: { 'Bad Name': 'x' } }, 'header name with a space', 400, 'headers.Bad Name'),
  create({ headers: { 'X-Num': 5 } }, 'header value not a string', 400, 'headers.X-Num'),
  create({ headers: ['X-A: 1'] }, 'headers as an array'),
  create({ headers: { 'x-a': '1', 'X-A': '2' } }, 'header given twice in different case', 400, 'headers.X-A'),
  // Numbers, enums, strings.
  create({ retries_count: 21 }, 'retries_count over 20'),
  create({ retries_count: -1 }, 'retries_count negative'),
  create({ retries_delay: 86401 }, 'retries_delay over a day'),
  create({ retries_delay: '10' }, 'retries_delay as a string'),
  create({ retry_backoff: 'linear' }, 'retry_backoff unknown'),
  create({ follow_redirect: 'yes' }, 'follow_redirect as a string'),
  create({ reject_unauthorized: 0 }, 'reject_unauthorized as a number'),
  create({ timeout: 0 }, 'timeout zero'),
  create({ timeout: 61 }, 'timeout over 60'),
  create({ content_type: 'application/xml' }, 'content_type not JSON'),
  create({ description: 'd'.repeat(1001) }, 'description over 1000'),
  create({ is_active: 'true' }, 'is_active as a string'),
  create({ rate_limit: 0 }, 'rate_limit zero'),
  create({ rate_limit: 2.5 }, 'rate_limit fractional'),
  create({ ordering: 'lifo' }, 'ordering unknown'),
  create({ ordering: 'FIFO' }, 'ordering in capitals'),
  create({ ordering: null }, 'ordering null'),
  create({ secret: 'short' }, 'secret under 8'),
  create({ secret: 's'.repeat(257) }, 'secret over 256'),
  create({ secret: 12345678 }, 'secret as a number'),
  // Unknown fields.
  create({ retry_count: 3 }, 'retry_count typo'),
  create({ id: 'wh_mine' }, 'id is not settable'),
  create({ disabled_reason: null }, 'disabled_reason is not settable'),
  // Transport.
  { name: 'invalid JSON', body: '{"team_id": 5,', type: 'application/json', status: 400 },
  { name: 'form-encoded body', body: 'team_id=5', type: 'application/x-www-form-urlencoded', status: 415 },
  { name: 'text body', body: 'hello', type: 'text/plain', status: 415 },
  { name: 'body over 1 MiB', body: { ...good, description: 'x'.repeat(1024 * 1024 + 10) }, status: 413 },
  // List queries.
  listing({ limit: '0' }, 'limit zero'),
  listing({ limit: '201' }, 'limit over 200'),
  listing({ limit: 'ten' }, 'limit not a number'),
  listing({ team_id: '-1' }, 'team_id query negative'),
  listing({ is_active: 'yes' }, 'is_active query not a boolean'),
  listing({ event: 'nope' }, 'event query unknown'),
  listing({ ordering: 'lifo' }, 'ordering query unknown'),
  listing({ cursor: 'garbage!' }, 'cursor with bad characters'),
  listing({ cursor: Buffer.from('["2026-01-01T00:00:00.000Z","evt_x"]').toString('base64url') }, 'cursor with a foreign id'),
  listing({ cursor: 'eyJhIjoxfQ' }, 'cursor of another shape'),
  listing({ teamid: '5' }, 'unknown query parameter'),
  filter('[{"field":', 'filters not JSON'),
  filter({ field: 'id', operator: '=', value: 'x' }, 'filters not an array'),
  filter([{ field: 'secret', operator: '=', value: 'x' }], 'filters unknown field', 'filters.0.field'),
  filter([{ field: 'id', operator: 'like', value: 'x' }], 'filters unknown operator', 'filters.0.operator'),
  filter([{ field: 'project_id', operator: '=', value: '7' }], 'filters project_id as a string', 'filters.0.value'),
  filter([{ field: 'is_active', operator: '=', value: 'true' }], 'filters is_active as a string', 'filters.0.value'),
  filter([{ field: 'id', operator: 'in', value: 'wh_x' }], 'filters in without an array', 'filters.0.value'),
  filter([{ field: 'id', operator: 'in', value: [] }], 'filters in with an empty array', 'filters.0.value'),
  filter([{ field: 'event', operator: '=', value: 'nope' }], 'filters unknown event', 'filters.0.value'),
  filter([{ field: 'ordering', operator: 'in', value: ['fifo', 'lifo'] }], 'filters unknown ordering', 'filters.0.value.1'),
  filter([{ field: 'url', operator: '=' }], 'filters without a value', 'filters.0.value'),
  filter([{ field: 'url', operator: '=', value: 'x', extra: 1 }], 'filters with an extra key', 'filters.0.extra'),
  // Ids and the other routes.
  { name: 'malformed id on GET', method: 'get', path: '/v1/webhooks/not-an-id', status: 404 },
  { name: 'another kind of id on GET', method: 'get', path: '/v1/webhooks/evt_01JKA8W5Q0V3M4N5P6R7S8T9V0', status: 404 },
  { name: 'malformed id on PATCH', method: 'patch', path: '/v1/webhooks/%00', body: { timeout: 5 }, status: 404 },
  { name: 'undecodable id in the path', method: 'get', path: '/v1/webhooks/%ff', status: 400 },
  { name: 'malformed id on DELETE', method: 'delete', path: `/v1/webhooks/${'x'.repeat(5000)}`, status: 404 },
  { name: 'malformed id on rotate', method: 'post', path: '/v1/webhooks/wh_/secret/rotate', status: 404 },
  { name: 'PATCH with an unknown field', method: 'patch', body: { retry_count: 1 }, status: 400, field: 'retry_count' },
  { name: 'PATCH with null for a required field', method: 'patch', body: { url: null }, status: 400, field: 'url' },
  { name: 'PATCH with an unknown ordering', method: 'patch', body: { ordering: 'strict' }, status: 400, field: 'ordering' },
  { name: 'PATCH with a body that is not an object', method: 'patch', body: '[1]', type: 'application/json', status: 400 },
  { name: 'rotate with an unknown field', method: 'post', path: 'ROTATE', body: { secrets: 'abcdefghij' }, status: 400, field: 'secrets' },
  { name: 'api key with team_id as a string', method: 'post', path: '/v1/api-keys', body: { team_id: 'seven' }, status: 400, field: 'team_id' },
  { name: 'api key with an unknown field', method: 'post', path: '/v1/api-keys', body: { team_id: 7, scope: 'all' }, status: 400, field: 'scope' },
];

beforeAll(async () => {
  api = await startTestApi('badrequests');
  const res = await request(api.app).post('/v1/webhooks').set(api.admin).send(good);
  expect(res.status).toBe(201);
  hookId = res.body.id;
});

afterAll(async () => {
  await api.close();
});

describe('bad requests', () => {
  it('covers at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = await api.deps.db.webhook.count();
    const method = c.method ?? (c.path === undefined && c.body !== undefined ? 'post' : (c.method ?? 'post'));
    const path =
      c.path === 'ROTATE'
        ? `/v1/webhooks/${hookId}/secret/rotate`
        : (c.path ?? (method === 'patch' ? `/v1/webhooks/${hookId}` : '/v1/webhooks'));
    let req = (request(api.app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set(api.admin);
    if (c.query) req = req.query(c.query);
    if (typeof c.body === 'string') req = req.set('Content-Type', c.type ?? 'application/json').send(c.body);
    else if (c.body !== undefined) req = req.send(c.body as object);
    const res = await req;

    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      error: {
        code: expect.any(String),
        message: expect.any(String),
        details: expect.any(Array),
      },
    });
    if (c.field !== undefined) {
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(c.field);
    }
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+|Prisma|Error:/);
    expect(await api.deps.db.webhook.count()).toBe(before);
  });

  it('the webhook the PATCH cases aimed at is untouched', async () => {
    const res = await request(api.app).get(`/v1/webhooks/${hookId}`).set(api.admin);
    expect(res.body).toMatchObject({ url: good.url, timeout: 10, events: ['ping'], retries_count: 5 });
  });
});

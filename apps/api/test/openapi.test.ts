import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

let api: TestApi;
type Json = Record<string, unknown>;
let doc: Json;

const MY_ROUTES: Array<[string, string]> = [
  ['post', '/v1/api-keys'],
  ['delete', '/v1/api-keys/{id}'],
  ['post', '/v1/webhooks'],
  ['get', '/v1/webhooks'],
  ['get', '/v1/webhooks/{id}'],
  ['patch', '/v1/webhooks/{id}'],
  ['delete', '/v1/webhooks/{id}'],
  ['get', '/v1/webhooks/{id}/secret'],
  ['post', '/v1/webhooks/{id}/secret/rotate'],
  ['get', '/v1/event-types'],
  ['get', '/openapi.json'],
  ['get', '/docs'],
];

/** The contract's (/work/shared/API.md) /v1 routes, written out here so the document cannot list only itself. */
const CONTRACT_ROUTES: Array<[string, string]> = [
  ['post', '/v1/events'],
  ['post', '/v1/events/batch'],
  ['get', '/v1/events/{id}'],
  ['delete', '/v1/events/{id}'],
  ['get', '/v1/deliveries/{id}'],
  ['post', '/v1/deliveries/{id}/redeliver'],
  ['get', '/v1/webhooks/{id}/deliveries'],
  ['post', '/v1/webhooks/{id}/test'],
  ['post', '/v1/webhooks/{id}/recover'],
  ['post', '/v1/portal-sessions'],
  ['delete', '/v1/teams/{team_id}'],
];

const WEBHOOK_FIELDS = ['team_id', 'url', 'events', 'project_id', 'headers', 'retries_count', 'retries_delay', 'retry_backoff',
  'follow_redirect', 'reject_unauthorized', 'timeout', 'content_type', 'description', 'is_active', 'rate_limit'];
const WEBHOOK_OUT = [...WEBHOOK_FIELDS, 'id', 'created_at', 'updated_at', 'last_status', 'last_delivery_at', 'disabled_reason'];
const DELIVERY_OUT = ['id', 'webhook_id', 'event_id', 'event', 'status', 'attempts', 'last_status_code', 'next_attempt_at', 'created_at', 'updated_at'];

/**
 * The fields the contract names for each operation, written out from /work/shared/API.md so
 * that a field missing from the document fails here: `body` is the request body, `response`
 * the first 2xx body, `nested` a property path (`[]` for "each item of") into that response.
 * The document may list more (v1.1 additions); it may not list fewer.
 */
const CONTRACT_FIELDS: Array<{ op: string; body?: string[]; response?: string[]; nested?: Record<string, string[]> }> = [
  { op: 'post /v1/api-keys', body: ['team_id'], response: ['id', 'team_id', 'key'] },
  { op: 'post /v1/webhooks', body: [...WEBHOOK_FIELDS, 'secret', 'action'], response: [...WEBHOOK_OUT, 'secret'] },
  { op: 'get /v1/webhooks', response: ['data', 'next_cursor'], nested: { 'data[]': WEBHOOK_OUT } },
  { op: 'get /v1/webhooks/{id}', response: WEBHOOK_OUT },
  { op: 'patch /v1/webhooks/{id}', body: [...WEBHOOK_FIELDS, 'secret'], response: WEBHOOK_OUT },
  { op: 'post /v1/webhooks/{id}/test', body: ['payload'], response: ['delivery_id', 'success', 'status_code', 'response_body', 'duration_ms', 'error'] },
  { op: 'get /v1/webhooks/{id}/secret', response: ['secret'] },
  { op: 'post /v1/webhooks/{id}/secret/rotate', response: ['secret'] },
  { op: 'get /v1/webhooks/{id}/deliveries', response: ['data', 'next_cursor'], nested: { 'data[]': DELIVERY_OUT } },
  { op: 'post /v1/webhooks/{id}/recover', body: ['since'], response: ['count'] },
  { op: 'post /v1/events', body: ['event', 'team_id', 'project_id', 'data', 'timestamp', 'sender', 'idempotency_key'], response: ['event_id', 'deliveries'] },
  { op: 'post /v1/events/batch', body: ['events'], response: ['results'] },
  {
    op: 'get /v1/events/{id}',
    response: ['id', 'event', 'team_id', 'project_id', 'timestamp', 'data', 'sender', 'created_at', 'deliveries'],
    nested: { 'deliveries[]': ['id', 'webhook_id', 'status'] },
  },
  { op: 'get /v1/event-types', response: ['data'], nested: { 'data[]': ['type', 'description', 'schema'] } },
  {
    op: 'get /v1/deliveries/{id}',
    response: [...DELIVERY_OUT, 'attempt_log'],
    nested: { 'attempt_log[]': ['attempt', 'started_at', 'duration_ms', 'status_code', 'response_body', 'error'] },
  },
  { op: 'post /v1/deliveries/{id}/redeliver', response: DELIVERY_OUT },
  { op: 'delete /v1/teams/{team_id}', response: ['webhooks', 'events', 'deliveries', 'api_keys'] },
  { op: 'post /v1/portal-sessions', body: ['team_id', 'project_id', 'expires_in', 'read_only'], response: ['token', 'url', 'expires_at'] },
];

function resolvePointer(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Json)[part] : undefined), doc);
}

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, found));
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.push(child);
      else refsIn(child, found);
    }
  }
  return found;
}

function deref(schema: Json | undefined): Json | undefined {
  return schema && typeof schema.$ref === 'string' ? deref(resolvePointer(schema.$ref) as Json) : schema;
}

function mediaSchema(holder: Json | undefined): Json | undefined {
  return deref(((holder?.content as Record<string, Json> | undefined)?.['application/json']?.schema) as Json | undefined);
}

function propertyOf(schema: Json | undefined, name: string): Json | undefined {
  return deref((schema?.properties as Record<string, Json> | undefined)?.[name]);
}

function propertiesOf(schema: Json | undefined): string[] {
  return Object.keys((schema?.properties as Json | undefined) ?? {});
}

function operations(): Array<{ path: string; method: string; op: Json }> {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op: op as Json })),
  );
}

beforeAll(async () => {
  api = await startTestApi('openapi');
  const res = await request(api.app).get('/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  doc = res.body as Json;
});

afterAll(async () => {
  await api.close();
});

describe('/openapi.json', () => {
  it('is an OpenAPI 3.1 document with info and a bearer scheme', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components).toMatchObject({ securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } });
    for (const key of Object.keys(doc)) expect(['openapi', 'info', 'servers', 'paths', 'components', 'security', 'tags', 'externalDocs']).toContain(key);
  });

  it('lists every route of the contract', () => {
    const paths = doc.paths as Record<string, Json>;
    for (const [method, path] of [...MY_ROUTES, ...CONTRACT_ROUTES]) {
      expect([method, path, Boolean(paths[path]?.[method])]).toEqual([method, path, true]);
    }
  });

  it('every documented operation, driven against the running app, answers a documented status and shape', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(doc, 'openapi');
    // A 1 s timeout keeps the test ping (no worker runs here) short.
    const hook = await request(api.app).post('/v1/webhooks').set(api.admin).send({ team_id: 1, url: 'https://example.com/hook', events: ['ping'], timeout: 1 });
    expect(hook.status).toBe(201);
    const event = await request(api.app).post('/v1/events').set(api.admin).send({ team_id: 1, event_type: 'ping', payload: { a: 1 } });
    const ids: Record<string, string> = { id: String(hook.body.id), team_id: '999' };
    const bodies: Record<string, unknown> = {
      'post /v1/webhooks': { team_id: 1, url: 'https://example.com/other', events: ['ping'] },
      'post /v1/events': { team_id: 1, event_type: 'ping', payload: { b: 2 } },
      'post /v1/api-keys': { team_id: 1 },
    };
    // Deletes last, so they do not remove what the other operations address.
    const ops = operations().sort((a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'));
    const seen: string[] = [];
    for (const { path, method, op } of ops) {
      let url = path.replace(/\{(\w+)\}/g, (_m, name: string) => ids[name] ?? '1');
      if (path.startsWith('/v1/events/')) url = url.replace(`/v1/events/${ids.id}`, `/v1/events/${String(event.body.id ?? 1)}`);
      const res = await (request(api.app) as unknown as Record<string, (u: string) => request.Test>)[method]!(url)
        .set(api.admin)
        .send((bodies[`${method} ${path}`] ?? {}) as object);
      const responses = op.responses as Record<string, Json>;
      const described = responses[String(res.status)] ?? responses.default;
      expect({ op: `${method} ${path}`, status: res.status, documented: Boolean(described) }).toEqual({
        op: `${method} ${path}`, status: res.status, documented: true,
      });
      const media = String(res.headers['content-type'] ?? '').split(';')[0]!;
      const schema = ((described!.content as Record<string, Json> | undefined)?.[media]?.schema) as Json | undefined;
      if (media === 'application/json' && schema) {
        const pointer = ['paths', path, method, 'responses', responses[String(res.status)] ? String(res.status) : 'default', 'content', media, 'schema']
          .map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1'))
          .join('/');
        const validate = ajv.getSchema(`openapi#/${pointer}`)!;
        const ok = validate(res.body);
        expect({ op: `${method} ${path}`, status: res.status, errors: ok ? null : validate.errors }).toEqual({
          op: `${method} ${path}`, status: res.status, errors: null,
        });
        seen.push(`${method} ${path} ${res.status}`);
      }
    }
    // The walk really validated bodies, success ones included.
    expect(seen.filter((s) => / 2\d\d$/.test(s)).length).toBeGreaterThan(5);
  });

  it('documents every field the contract names, in each request body and success response', () => {
    const paths = doc.paths as Record<string, Record<string, Json>>;
    for (const { op, body, response, nested } of CONTRACT_FIELDS) {
      const [method, path] = op.split(' ') as [string, string];
      const operation = paths[path]![method]!;
      if (body) expect([op, 'body', propertiesOf(mediaSchema(operation.requestBody as Json))]).toEqual([op, 'body', expect.arrayContaining(body)]);
      const responses = operation.responses as Record<string, Json>;
      const success = responses[Object.keys(responses).find((status) => status.startsWith('2'))!];
      if (response) expect([op, 'response', propertiesOf(mediaSchema(success))]).toEqual([op, 'response', expect.arrayContaining(response)]);
      for (const [where, fields] of Object.entries(nested ?? {})) {
        const schema = where.split('.').reduce<Json | undefined>((node, step) => {
          const property = propertyOf(node, step.replace('[]', ''));
          return step.endsWith('[]') ? deref(property?.items as Json | undefined) : property;
        }, mediaSchema(success));
        expect([op, where, propertiesOf(schema)]).toEqual([op, where, expect.arrayContaining(fields)]);
      }
    }
  });

  it('every operation is well formed: unique operationId, responses, declared path parameters, auth on /v1', () => {
    const ids = new Set<string>();
    for (const { path, method, op } of operations()) {
      expect(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace']).toContain(method);
      expect(typeof op.operationId).toBe('string');
      expect(ids.has(op.operationId as string)).toBe(false);
      ids.add(op.operationId as string);
      const responses = op.responses as Record<string, Json>;
      expect(Object.keys(responses).length).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(responses)) {
        expect(status).toMatch(/^[1-5]\d\d$/);
        expect(typeof response.description).toBe('string');
      }
      const params = (op.parameters ?? []) as Json[];
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      expect(params.filter((p) => p.in === 'path').map((p) => p.name).sort()).toEqual(inPath);
      for (const p of params) {
        expect(['query', 'path', 'header', 'cookie']).toContain(p.in);
        if (p.in === 'path') expect(p.required).toBe(true);
      }
      const keys = params.map((p) => `${p.in}:${p.name}`);
      expect(new Set(keys).size).toBe(keys.length);
      if (path.startsWith('/v1/')) expect(op.security).toEqual([{ bearerAuth: [] }]);
    }
  });

  it('is valid OpenAPI according to a maintained validator, and every $ref resolves', async () => {
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect([ref, resolvePointer(ref) !== undefined]).toEqual([ref, true]);
  });

  it('documents the create body from the validation schema itself: fields, defaults and ranges', async () => {
    const op = (doc.paths as Record<string, Json>)['/v1/webhooks']!.post as Json;
    const ref = ((op.requestBody as Json).content as Record<string, Json>)['application/json']!.schema as Json;
    const schema = (ref.$ref ? resolvePointer(ref.$ref as string) : ref) as Json;
    const props = schema.properties as Record<string, Json>;
    expect(Object.keys(props).sort()).toEqual(
      ['action', 'content_type', 'description', 'events', 'follow_redirect', 'headers', 'is_active', 'ordering', 'project_id',
        'rate_limit', 'reject_unauthorized', 'retries_count', 'retries_delay', 'retry_backoff', 'secret', 'team_id', 'timeout', 'url'].sort(),
    );
    expect(schema.required).toEqual(expect.arrayContaining(['team_id', 'url']));
    expect(schema.additionalProperties).toBe(false);
    expect(props.retries_count).toMatchObject({ default: 5, minimum: 0, maximum: 20 });
    expect(props.retries_delay).toMatchObject({ default: 10, minimum: 0, maximum: 86400 });
    expect(props.timeout).toMatchObject({ default: 10, minimum: 1, maximum: 60 });
    expect(props.retry_backoff).toMatchObject({ default: 'fixed', enum: ['fixed', 'exponential'] });
    expect(props.ordering).toMatchObject({ default: 'none', enum: ['none', 'fifo'] });
    expect(props.url).toMatchObject({ maxLength: 2048 });

    // A field the document does not list is refused by the API, and the reverse holds for a listed one.
    const accepted = await request(api.app)
      .post('/v1/webhooks')
      .set(api.admin)
      .send({ team_id: 1, url: 'https://example.com/', events: ['ping'], retries_count: 20, timeout: 60, description: 'from the docs' });
    expect(accepted.status).toBe(201);
    const refused = await request(api.app)
      .post('/v1/webhooks')
      .set(api.admin)
      .send({ team_id: 1, url: 'https://example.com/', events: ['ping'], undocumented: true });
    expect(refused.status).toBe(400);
  });

  it('describes the webhook response without the secret, and the create response with it', () => {
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    const webhook = schemas.Webhook!;
    expect(Object.keys(webhook.properties as Json)).toEqual(
      expect.arrayContaining(['id', 'created_at', 'updated_at', 'last_status', 'last_delivery_at', 'disabled_reason']),
    );
    expect(Object.keys(webhook.properties as Json)).not.toContain('secret');
    expect(Object.keys(schemas.CreatedWebhook!.properties as Json)).toContain('secret');
  });
});

describe('/docs', () => {
  it('answers an HTML page that renders /openapi.json', async () => {
    const res = await request(api.app).get('/docs');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text.toLowerCase()).toContain('<!doctype html>');
    expect(res.text).toContain('swagger-ui');
    // The UI's assets are served by us, not a CDN, so the page works offline.
    const init = await request(api.app).get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('/openapi.json');
  });

  it('other methods get 405', async () => {
    expect((await request(api.app).post('/openapi.json')).status).toBe(405);
    expect((await request(api.app).delete('/docs')).status).toBe(405);
  });
});

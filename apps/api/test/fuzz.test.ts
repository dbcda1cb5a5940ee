import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EVENT_TYPES, getEventType, WILDCARD_EVENT } from '@hooklane/core';
import fc from 'fast-check';
import { buildOpenApiDocument } from '../src/openapi/registry.js';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

/**
 * Property-based fuzzing of every route in the OpenAPI document: random, mutated and
 * hostile bodies, headers, query strings and path ids, sent as the admin, as team keys and
 * as strangers. Whatever arrives, the API answers with a success or a 4xx in the
 * contract's error shape: never a 5xx, never a stack trace; it still answers /healthz at
 * the end, and its heap does not grow with the traffic.
 *
 * The route list comes from the OpenAPI document, so a route added later is fuzzed without
 * touching this file. No worker runs here, so nothing is ever delivered anywhere; for the
 * same reason `POST /v1/webhooks/{id}/test` is only sent ids of webhooks that cannot be
 * pinged (deleted, or not ids at all), because a real ping would wait for a worker and
 * then answer the documented 504.
 */

const TEAM = 51;
const OTHER_TEAM = 52;
const BATCHES = 500;
const BATCH_SIZE = 20;
const REQUEST_TIMEOUT_MS = 30_000;
const RECEIVER = 'http://127.0.0.1:9/hook';

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete' | 'head' | 'options';
interface Route {
  method: Method;
  path: string;
}
type PoolName = 'webhook' | 'deletedWebhook' | 'event' | 'delivery' | 'key' | 'cursorWebhooks' | 'cursorDeliveries' | 'team';
type IdChoice = { kind: 'known'; pool: PoolName; n: number } | { kind: 'raw'; text: string };
type AuthChoice = 'admin' | 'team' | 'other' | 'revoked' | 'none' | { raw: string };
type QueryValue = string | { pool: PoolName; n: number };

interface FuzzRequest {
  route: Route;
  method: Method;
  ids: IdChoice[];
  query: Array<[string, QueryValue]>;
  rawQuery: string;
  auth: AuthChoice;
  contentType: string | null;
  body: string | null;
  idempotencyKey: string | null;
}

interface Answer {
  status: number;
  text: string;
  contentType: string;
  allow: string | undefined;
}

let api: TestApi;
let server: http.Server;
let port: number;
const agent = new http.Agent({ keepAlive: true, maxSockets: BATCH_SIZE });
const tokens: Record<'admin' | 'team' | 'other' | 'revoked', string> = { admin: '', team: '', other: '', revoked: '' };
const pools: Record<PoolName, string[]> = {
  webhook: [],
  deletedWebhook: [],
  event: [],
  delivery: [],
  key: [],
  cursorWebhooks: [],
  cursorDeliveries: [],
  // Teams the fuzz has no objects in, for DELETE /v1/teams/{team_id} to erase without emptying the other pools.
  team: ['9001', '9002', '9003'],
};

// ---------------------------------------------------------------------------------------
// Sending

function send(method: string, path: string, headers: Record<string, string>, body: string | null, fresh = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === null ? undefined : Buffer.from(body, 'utf8');
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: method.toUpperCase(),
        path,
        // A body the server refuses unread is best sent on a connection of its own.
        agent: fresh ? false : agent,
        headers: { ...headers, ...(payload ? { 'content-length': String(payload.length) } : {}) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            contentType: String(res.headers['content-type'] ?? ''),
            allow: res.headers.allow,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms (a hang)`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** A keep-alive socket the server closed just as it was reused is the client's race, not a finding: try once more on a fresh one. */
async function sendOnce(method: string, path: string, headers: Record<string, string>, body: string | null): Promise<Answer> {
  const big = body !== null && body.length > 512 * 1024;
  try {
    return await send(method, path, headers, body, big);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ECONNRESET' && code !== 'EPIPE' && !/socket hang up/.test(String(err))) throw err;
    return send(method, path, headers, body, true);
  }
}

function pick(pool: PoolName, n: number): string | undefined {
  const list = pools[pool];
  return list.length === 0 ? undefined : list[n % list.length];
}

function resolveId(choice: IdChoice): string {
  if (choice.kind === 'raw') return choice.text;
  return encodeURIComponent(pick(choice.pool, choice.n) ?? 'wh_01JKA8W5Q0V3M4N5P6R7S8T9V0');
}

function authHeader(choice: AuthChoice): Record<string, string> {
  if (choice === 'none') return {};
  if (typeof choice === 'object') return { authorization: choice.raw };
  return { authorization: `Bearer ${tokens[choice]}` };
}

function pathOf(req: FuzzRequest): string {
  let i = 0;
  const path = req.route.path.replace(/\{[^}]+\}/g, () => resolveId(req.ids[i++] ?? { kind: 'raw', text: 'x' }));
  const parts = req.query.map(([key, value]) => {
    const text = typeof value === 'string' ? value : (pick(value.pool, value.n) ?? 'nothing');
    return `${encodeURIComponent(key)}=${encodeURIComponent(text)}`;
  });
  const query = [...parts, ...(req.rawQuery ? [req.rawQuery] : [])].join('&');
  return query ? `${path}?${query}` : path;
}

async function perform(req: FuzzRequest): Promise<Answer> {
  const headers: Record<string, string> = { ...authHeader(req.auth) };
  if (req.contentType !== null) headers['content-type'] = req.contentType;
  if (req.idempotencyKey !== null) headers['idempotency-key'] = req.idempotencyKey;
  return sendOnce(req.method, pathOf(req), headers, req.body);
}

// ---------------------------------------------------------------------------------------
// Checking

const STACK_TRACE = /\n\s+at \S.*:\d+:\d+|\(\/[^)]+:\d+:\d+\)|node_modules\/|\/work\/main/;

/** Everything wrong with one answer, as sentences; empty when it is fine. */
function problemsOf(req: FuzzRequest, answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`answered ${answer.status}`);
  if (STACK_TRACE.test(answer.text)) problems.push('the answer holds a stack trace or a source path');
  if (answer.status >= 400 && req.method !== 'head') {
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      problems.push(`error answer is not JSON: ${answer.text.slice(0, 200)}`);
      return problems;
    }
    const error = (body as { error?: Record<string, unknown> } | null)?.error;
    const shapeOk =
      body !== null &&
      typeof body === 'object' &&
      Object.keys(body).length === 1 &&
      error !== undefined &&
      typeof error.code === 'string' &&
      typeof error.message === 'string' &&
      Array.isArray(error.details) &&
      (error.details as unknown[]).every(
        (d) => d !== null && typeof d === 'object' && typeof (d as Record<string, unknown>).path === 'string' && typeof (d as Record<string, unknown>).message === 'string',
      );
    if (!shapeOk) problems.push(`error answer is not in the contract's shape: ${answer.text.slice(0, 200)}`);
  }
  // Issue 12.7: a 405 names the methods the route does answer, and never the one just refused.
  if (answer.status === 405 && !(answer.allow ?? '').split(', ').some((m) => m !== '' && m !== req.method.toUpperCase())) {
    problems.push(`405 without a fitting Allow header (${String(answer.allow)})`);
  }
  // Security rules (v1.1): a whsec_ secret handed back (create, rotate) is one Standard Webhooks receivers can use.
  if (answer.status < 300 && answer.text.includes('"secret":"whsec_')) {
    const secret = (JSON.parse(answer.text) as { secret?: string }).secret ?? '';
    if (!isUsableWhsec(secret)) problems.push(`accepted a malformed whsec_ secret ${JSON.stringify(secret)}`);
  }
  return problems;
}

function isUsableWhsec(secret: string): boolean {
  const rest = secret.slice('whsec_'.length);
  const bytes = Buffer.from(rest, 'base64');
  return /^[A-Za-z0-9+/]+={0,2}$/.test(rest) && bytes.toString('base64') === rest && bytes.length >= 16 && bytes.length <= 64;
}

/** Feeds the id pools from successful answers, so later requests hit real objects. */
function learn(req: FuzzRequest, answer: Answer): void {
  if (answer.status >= 300 || req.method === 'head') return;
  const key = `${req.method} ${req.route.path}`;
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    return;
  }
  const add = (pool: PoolName, value: unknown) => {
    if (typeof value !== 'string') return;
    pools[pool].push(value);
    if (pools[pool].length > 200) pools[pool].shift();
  };
  switch (key) {
    case 'post /v1/webhooks':
      add('webhook', body.id);
      break;
    case 'delete /v1/webhooks/{id}': {
      const id = decodeURIComponent(resolveId(req.ids[0] ?? { kind: 'raw', text: '' }));
      pools.webhook = pools.webhook.filter((w) => w !== id);
      add('deletedWebhook', id);
      break;
    }
    case 'post /v1/api-keys':
      add('key', body.id);
      break;
    case 'post /v1/events':
      add('event', body.event_id);
      break;
    case 'post /v1/deliveries/{id}/redeliver':
      add('delivery', body.id);
      break;
    case 'get /v1/webhooks':
      add('cursorWebhooks', body.next_cursor);
      break;
    case 'get /v1/webhooks/{id}/deliveries':
      add('cursorDeliveries', body.next_cursor);
      break;
  }
}

// ---------------------------------------------------------------------------------------
// Generating

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ulidBody = fc
  .array(fc.constantFrom(...CROCKFORD), { minLength: 25, maxLength: 25 })
  .chain((chars) => fc.constantFrom('0', '1', '7').map((first) => first + chars.join('')));
const PERCENT_GARBAGE = ['%', '%zz', '%E0%A4%A', '%00', '%2F', '..', '%2e%2e', '%C0%AE', '%FF%FE', '%u0041', '~', '%20', 'null', 'undefined', '0', '-1'];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf'];
const RAW_VALUES = ['1e400', '-1e400', '-0', '123456789012345678901234567890', '0.1e-400', '"\\u0000"', '"\\ud800"', '"\\udfff\\ud800"', '[]', '{}', 'null', 'true', '"" ', '1E2'];
const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'application/JSON',
  'Application/Json ; Charset=UTF-8',
  'application/merge-patch+json',
  'application/vnd.api+json',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; boundary=x',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  '*/*',
  '',
  'json',
];

const printable = fc.string({ maxLength: 40 });
const anyText = fc.oneof(printable, fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 20 }));
const hostile = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: anyText },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 2 ** 31, 2 ** 31 - 1, 2 ** 53 + 1, 1.5, -0)) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [[]], { '': '' }, '', ' ', 'null', '*') },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...PROTO_KEYS, 'a', ''), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }) },
);

function idArb(pool: PoolName, prefix: string): fc.Arbitrary<IdChoice> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.nat().map((n): IdChoice => ({ kind: 'known', pool, n })) },
    { weight: 2, arbitrary: ulidBody.map((body): IdChoice => ({ kind: 'raw', text: `${prefix}_${body}` })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('wh', 'evt', 'dlv', 'key', 'att', 'WH', ''), ulidBody).map(([p, body]): IdChoice => ({ kind: 'raw', text: `${p}_${body}` })) },
    { weight: 2, arbitrary: anyText.filter((s) => s.length > 0).map((s): IdChoice => ({ kind: 'raw', text: safeEncode(s) })) },
    { weight: 1, arbitrary: fc.constantFrom(...PERCENT_GARBAGE).map((text): IdChoice => ({ kind: 'raw', text })) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 4000 }).map((n): IdChoice => ({ kind: 'raw', text: 'w'.repeat(n) })) },
  );
}

/** encodeURIComponent, except that lone surrogates (which it refuses) become percent garbage as a client might send. */
function safeEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '')) + '%ED%A0%80';
  }
}

function poolFor(path: string): { pool: PoolName; prefix: string } {
  if (path.endsWith('/test')) return { pool: 'deletedWebhook', prefix: 'wh' };
  if (path.startsWith('/v1/webhooks')) return { pool: 'webhook', prefix: 'wh' };
  if (path.startsWith('/v1/events')) return { pool: 'event', prefix: 'evt' };
  if (path.startsWith('/v1/deliveries')) return { pool: 'delivery', prefix: 'dlv' };
  if (path.startsWith('/v1/api-keys')) return { pool: 'key', prefix: 'key' };
  if (path.startsWith('/v1/teams')) return { pool: 'team', prefix: 'team' };
  return { pool: 'webhook', prefix: 'wh' };
}

const teamId = fc.oneof(
  { weight: 6, arbitrary: fc.constant(TEAM) },
  { weight: 2, arbitrary: fc.constant(OTHER_TEAM) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** 31 - 1 }) },
);
const eventType = fc.constantFrom(...EVENT_TYPES);
const urlArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(RECEIVER, 'http://127.0.0.1:9/', 'https://127.0.0.1:9/a?b=c', 'http://hooks.example.test/x') },
  { weight: 1, arbitrary: fc.constantFrom('ftp://127.0.0.1/', 'javascript:alert(1)', 'http://', 'http://[::1', `http://127.0.0.1/${'a'.repeat(2100)}`, 'http://user:pw@127.0.0.1/', 'http://127.0.0.1/\r\nX: y') },
);
const headerName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('Authorization', 'X-Tenant', 'X-Api-Key', 'X-A') },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('Content-Type', 'webhook-id', 'Host', 'x-a', '__proto__', 'Bad Name', 'Connection'), printable) },
);
const headerValue = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9 ._=-]{0,30}$/) },
  { weight: 1, arbitrary: fc.oneof(printable, fc.constant('a\r\nInjected: 1')) },
);
const headersArb = fc.dictionary(headerName, headerValue, { maxKeys: 3 });
// The probe's secrets (issue 12.2) among random ones: malformed whsec_ values, and valid ones of 16 to 64 bytes.
const secretArb = fc.oneof(
  { weight: 3, arbitrary: fc.string({ minLength: 8, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('whsec_!!!!****', 'whsec_AA', 'whsec_==', `whsec_${'-_'.repeat(12)}`, `whsec_${'A'.repeat(22)}`) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 14, maxLength: 66 }).map((bytes) => `whsec_${Buffer.from(bytes).toString('base64')}`) },
);

const webhookFields = {
  team_id: teamId,
  url: urlArb,
  events: fc.oneof(
    { weight: 1, arbitrary: fc.constant([WILDCARD_EVENT]) },
    { weight: 4, arbitrary: fc.uniqueArray(eventType, { minLength: 1, maxLength: 4 }) },
  ),
  action: eventType,
  project_id: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 1000 })),
  headers: headersArb,
  secret: secretArb,
  retries_count: fc.integer({ min: 0, max: 20 }),
  retries_delay: fc.integer({ min: 0, max: 86_400 }),
  retry_backoff: fc.constantFrom('fixed', 'exponential'),
  follow_redirect: fc.boolean(),
  reject_unauthorized: fc.boolean(),
  timeout: fc.integer({ min: 1, max: 60 }),
  content_type: fc.constant('application/json'),
  description: fc.string({ maxLength: 50 }),
  is_active: fc.boolean(),
  rate_limit: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 1000 })),
  ordering: fc.constantFrom('none', 'fifo'),
};
const createWebhookBody = fc.record(webhookFields, { requiredKeys: ['team_id', 'url'] }).map((body) => {
  const out: Record<string, unknown> = { ...body };
  if (out.action === undefined && out.events === undefined) out.events = [WILDCARD_EVENT];
  if (out.action !== undefined && out.events !== undefined) delete out.events;
  return out;
});
const patchableFields = Object.keys(webhookFields) as Array<keyof typeof webhookFields>;
/** One to three fields, as a real PATCH sends: each usually valid, so many PATCHes get through. */
const patchWebhookBody = fc
  .subarray(patchableFields, { minLength: 1, maxLength: 3 })
  .chain((keys) => fc.record(Object.fromEntries(keys.map((key) => [key, key === 'team_id' ? fc.constant(TEAM) : webhookFields[key]]))));
const eventBody = fc
  .record(
    {
      event: eventType,
      team_id: teamId,
      project_id: fc.integer({ min: 1, max: 1000 }),
      timestamp: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
      sender: fc.dictionary(printable, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      idempotency_key: printable.filter((s) => s.length > 0),
      ordering_key: printable.filter((s) => s.length > 0),
    },
    { requiredKeys: ['event', 'team_id'] },
  )
  .map((body) => ({ ...body, data: { ...(getEventType(body.event)?.example ?? {}) } }));
const isoDate = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());

/** A valid (or nearly valid) body for each route that takes one; others get none or junk. */
function validBody(route: Route): fc.Arbitrary<unknown> {
  const key = `${route.method} ${route.path}`;
  switch (key) {
    case 'post /v1/webhooks':
      return createWebhookBody;
    case 'patch /v1/webhooks/{id}':
      return patchWebhookBody;
    case 'post /v1/events':
      return eventBody;
    case 'post /v1/events/batch':
      return fc.array(eventBody, { minLength: 1, maxLength: 5 }).map((events) => ({ events }));
    case 'post /v1/api-keys':
      return fc.record({ team_id: teamId });
    case 'post /v1/portal-sessions':
      return fc.record({ team_id: teamId, expires_in: fc.integer({ min: 60, max: 86_400 }), read_only: fc.boolean() }, { requiredKeys: ['team_id'] });
    case 'post /v1/webhooks/{id}/secret/rotate':
      return fc.oneof(fc.constant({}), fc.record({ secret: secretArb }));
    case 'post /v1/webhooks/{id}/test':
      return fc.oneof(fc.constant({}), fc.record({ payload: fc.dictionary(printable, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }) }));
    case 'post /v1/webhooks/{id}/recover':
      return fc.record({ since: isoDate });
    default:
      return fc.constant(undefined);
  }
}

type Mutation =
  | { kind: 'asIs' }
  | { kind: 'drop'; n: number }
  | { kind: 'set'; key: string | number; value: unknown }
  | { kind: 'raw'; key: string | number; text: string }
  | { kind: 'inject'; key: string; value: unknown }
  | { kind: 'replace'; value: unknown }
  | { kind: 'deep'; depth: number; array: boolean }
  | { kind: 'huge'; key: string | number; size: number }
  | { kind: 'garbage'; text: string };

const keyChoice = fc.oneof(fc.nat(), fc.constantFrom('team_id', 'url', 'events', 'event', 'data', 'headers', 'secret', 'payload', 'since', 'events', 'x', ''));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Mutation>({ kind: 'asIs' }) },
  { weight: 2, arbitrary: fc.nat().map((n): Mutation => ({ kind: 'drop', n })) },
  { weight: 5, arbitrary: fc.record({ key: keyChoice, value: hostile }).map((m): Mutation => ({ kind: 'set', ...m })) },
  { weight: 2, arbitrary: fc.record({ key: keyChoice, text: fc.constantFrom(...RAW_VALUES) }).map((m): Mutation => ({ kind: 'raw', ...m })) },
  { weight: 2, arbitrary: fc.record({ key: fc.constantFrom(...PROTO_KEYS), value: hostile }).map((m): Mutation => ({ kind: 'inject', ...m })) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value): Mutation => ({ kind: 'replace', value })) },
  { weight: 1, arbitrary: fc.record({ depth: fc.integer({ min: 10, max: 20_000 }), array: fc.boolean() }).map((m): Mutation => ({ kind: 'deep', ...m })) },
  { weight: 1, arbitrary: fc.record({ key: keyChoice, size: fc.constantFrom(5_000, 100_000, 1024 * 1024 + 1) }).map((m): Mutation => ({ kind: 'huge', ...m })) },
  { weight: 1, arbitrary: fc.oneof(anyText, fc.constantFrom('{', '{"a":', '[1,', '{"team_id": 51,}', "{'a':1}", 'NaN', 'undefined', '\ufeff{}', ' ', '{"a":1}{"b":2}')).map((text): Mutation => ({ kind: 'garbage', text })) },
);

const RAW_MARK = 'raw-value-mark-7c1e94';

function keyOf(base: Record<string, unknown>, key: string | number): string {
  if (typeof key === 'string') return key;
  const keys = Object.keys(base);
  return keys.length === 0 ? 'x' : (keys[key % keys.length] ?? 'x');
}

/** The request body text after a mutation; null means no body at all. */
function applyMutation(valid: unknown, m: Mutation): string | null {
  const base = valid !== null && typeof valid === 'object' && !Array.isArray(valid) ? { ...(valid as Record<string, unknown>) } : {};
  switch (m.kind) {
    case 'asIs':
      return valid === undefined ? null : JSON.stringify(valid);
    case 'drop': {
      const keys = Object.keys(base);
      if (keys.length > 0) delete base[keys[m.n % keys.length] as string];
      return JSON.stringify(base);
    }
    case 'set':
      base[keyOf(base, m.key)] = m.value;
      return JSON.stringify(base) ?? 'null';
    case 'raw': {
      base[keyOf(base, m.key)] = RAW_MARK;
      return JSON.stringify(base).replace(JSON.stringify(RAW_MARK), m.text);
    }
    case 'inject': {
      // An own "__proto__" key only exists in JSON text: an object literal would set the prototype instead.
      const rest = JSON.stringify(base).slice(1);
      return `{${JSON.stringify(m.key)}:${JSON.stringify(m.value) ?? 'null'}${rest === '}' ? '' : ','}${rest}`;
    }
    case 'replace':
      return JSON.stringify(m.value) ?? 'null';
    case 'deep': {
      const inner = m.array ? `${'['.repeat(m.depth)}${']'.repeat(m.depth)}` : `${'{"a":'.repeat(m.depth)}1${'}'.repeat(m.depth)}`;
      base[keyOf(base, 'data')] = RAW_MARK;
      return JSON.stringify(base).replace(JSON.stringify(RAW_MARK), inner);
    }
    case 'huge':
      base[keyOf(base, m.key)] = 'h'.repeat(m.size);
      return JSON.stringify(base);
    case 'garbage':
      return m.text;
  }
}

const authArb: fc.Arbitrary<AuthChoice> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<AuthChoice>('admin') },
  { weight: 8, arbitrary: fc.constant<AuthChoice>('team') },
  { weight: 2, arbitrary: fc.constant<AuthChoice>('other') },
  { weight: 1, arbitrary: fc.constant<AuthChoice>('revoked') },
  { weight: 1, arbitrary: fc.constant<AuthChoice>('none') },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        printable.map((s) => `Bearer ${s}`),
        printable,
        fc.constantFrom('Bearer', 'Bearer ', 'bearer  x', 'Basic YWRtaW46YWRtaW4=', `Bearer ${'a'.repeat(600)}`, 'Bearer hlk_', 'Bearer \t x'),
      )
      .map((raw): AuthChoice => ({ raw })),
  },
);

const cursorValue = (pool: PoolName, prefix: string): fc.Arbitrary<QueryValue> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.nat().map((n): QueryValue => ({ pool, n })) },
    { weight: 1, arbitrary: printable },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.tuple(isoDate, ulidBody.map((b) => `${prefix}_${b}`)).map((pair) => JSON.stringify(pair)),
          fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
          fc.tuple(printable, printable).map((pair) => JSON.stringify(pair)),
        )
        .map((text) => Buffer.from(text).toString('base64url')),
    },
  );

const filterItem = fc.record(
  {
    field: fc.oneof(fc.constantFrom('id', 'url', 'event', 'project_id', 'is_active', 'team_id', 'secret', '__proto__'), printable),
    operator: fc.oneof(fc.constantFrom('=', '!=', 'in', 'like', '>'), printable),
    value: fc.oneof(hostile, fc.array(fc.oneof(eventType, fc.integer(), printable), { maxLength: 5 }), eventType, fc.constant(null)),
  },
  { requiredKeys: [] },
);

function queryArb(route: Route): fc.Arbitrary<Array<[string, QueryValue]>> {
  const common: Array<fc.Arbitrary<[string, QueryValue]>> = [fc.tuple(fc.oneof(printable, fc.constantFrom(...PROTO_KEYS)), printable)];
  let specific: Array<fc.Arbitrary<[string, QueryValue]>> = [];
  if (route.method === 'get' && route.path === '/v1/webhooks') {
    specific = [
      fc.tuple(fc.constant('team_id'), fc.oneof(fc.constantFrom(String(TEAM), String(OTHER_TEAM), '0', '-1', '1.5', '99999999999', '2147483648', 'abc', ''), printable)),
      fc.tuple(fc.constant('project_id'), fc.oneof(fc.constantFrom('null', '1', '456', '0', 'NULL'), printable)),
      fc.tuple(fc.constant('event'), fc.oneof(eventType, fc.constantFrom('*', 'nope', ''), printable)),
      fc.tuple(fc.constant('is_active'), fc.constantFrom('true', 'false', 'yes', '1', '')),
      fc.tuple(fc.constant('limit'), fc.oneof(fc.constantFrom('1', '2', '50', '200', '0', '201', '-1', '1e2', 'abc', '99999999999999999999'), printable)),
      fc.tuple(fc.constant('cursor'), cursorValue('cursorWebhooks', 'wh')),
      fc.tuple(
        fc.constant('filters'),
        fc.oneof(
          fc.array(filterItem, { maxLength: 4 }).map((items) => JSON.stringify(items)),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          printable,
        ),
      ),
    ];
  } else if (route.path === '/v1/webhooks/{id}/deliveries') {
    specific = [
      fc.tuple(fc.constant('status'), fc.oneof(fc.constantFrom('pending', 'succeeded', 'failed', 'cancelled', 'PENDING', ''), printable)),
      fc.tuple(fc.constant('limit'), fc.oneof(fc.constantFrom('1', '2', '50', '200', '0', '201', '-1', 'abc'), printable)),
      fc.tuple(fc.constant('cursor'), cursorValue('cursorDeliveries', 'dlv')),
    ];
  }
  const entry = specific.length > 0 ? fc.oneof({ weight: 6, arbitrary: fc.oneof(...specific) }, { weight: 1, arbitrary: fc.oneof(...common) }) : fc.oneof(...common);
  return fc.oneof(
    { weight: specific.length > 0 ? 1 : 6, arbitrary: fc.constant<Array<[string, QueryValue]>>([]) },
    { weight: specific.length > 0 ? 6 : 1, arbitrary: fc.array(entry, { maxLength: 5 }) },
  );
}

const rawQueryArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('%zz', 'limit=1&limit=2', 'a[b]=1', 'a[__proto__][x]=1', '=x', '&&', '%', 'team_id[]=1', 'filters=%5B', 'cursor=%00', '__proto__=1', 'constructor[prototype][x]=1') },
);

function requestArb(route: Route): fc.Arbitrary<FuzzRequest> {
  const { pool, prefix } = poolFor(route.path);
  const paramCount = (route.path.match(/\{[^}]+\}/g) ?? []).length;
  const hasBody = route.method === 'post' || route.method === 'patch';
  return fc
    .record({
      method: fc.oneof(
        { weight: 19, arbitrary: fc.constant(route.method) },
        { weight: 1, arbitrary: fc.constantFrom<Method>('get', 'post', 'patch', 'put', 'delete', 'head', 'options') },
      ),
      ids: fc.array(idArb(pool, prefix), { minLength: paramCount, maxLength: paramCount }),
      query: queryArb(route),
      rawQuery: rawQueryArb,
      auth: authArb,
      valid: validBody(route),
      mutation,
      // A body where none is expected is fuzz too.
      strayBody: hasBody ? fc.constant(false) : fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      contentType: fc.oneof({ weight: 10, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: printable }),
      idempotencyKey: fc.oneof(
        { weight: 10, arbitrary: fc.constant(null) },
        { weight: 2, arbitrary: printable },
        { weight: 1, arbitrary: fc.constantFrom('', ' ', 'k'.repeat(300)) },
      ),
    })
    .map((r): FuzzRequest => {
      const body = hasBody || r.strayBody ? applyMutation(r.valid ?? {}, r.mutation) : null;
      return {
        route,
        method: r.method,
        ids: r.ids,
        query: r.query,
        rawQuery: r.rawQuery,
        auth: r.auth,
        contentType: body === null ? (r.contentType === 'application/json' ? null : r.contentType) : r.contentType,
        body,
        idempotencyKey: r.idempotencyKey,
      };
    });
}

// ---------------------------------------------------------------------------------------

const gc: (() => void) | undefined = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
})();

function heapUsedMb(): number {
  gc?.();
  gc?.();
  return v8.getHeapStatistics().used_heap_size / (1024 * 1024);
}

async function seed(method: string, path: string, body: unknown, token = tokens.admin): Promise<Record<string, unknown>> {
  const answer = await sendOnce(method, path, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body === undefined ? null : JSON.stringify(body));
  expect(answer.status).toBeLessThan(300);
  return answer.text ? (JSON.parse(answer.text) as Record<string, unknown>) : {};
}

let routes: Route[] = [];
const isPublic = (route: Route) => !route.path.startsWith('/v1/');

beforeAll(async () => {
  api = await startTestApi('fuzz');
  server = api.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  tokens.admin = api.admin.Authorization.slice('Bearer '.length);

  const paths = buildOpenApiDocument().paths as Record<string, Record<string, unknown>>;
  routes = Object.entries(paths).flatMap(([path, item]) => Object.keys(item).map((method) => ({ method: method as Method, path })));

  for (const [name, team] of [['team', TEAM], ['other', OTHER_TEAM]] as const) {
    tokens[name] = (await seed('post', '/v1/api-keys', { team_id: team })).key as string;
  }
  const revoked = await seed('post', '/v1/api-keys', { team_id: TEAM });
  tokens.revoked = revoked.key as string;
  await seed('delete', `/v1/api-keys/${revoked.id as string}`, undefined);
  for (let i = 0; i < 30; i++) pools.key.push((await seed('post', '/v1/api-keys', { team_id: i % 2 ? TEAM : OTHER_TEAM })).id as string);

  for (let i = 0; i < 24; i++) {
    const team = i % 4 === 3 ? OTHER_TEAM : TEAM;
    const hook = await seed('post', '/v1/webhooks', {
      team_id: team,
      url: RECEIVER,
      events: i % 2 ? ['*'] : ['create:task', 'ping'],
      headers: { 'X-Seed': String(i) },
      ...(i % 5 === 0 ? { project_id: 456 } : {}),
    });
    pools.webhook.push(hook.id as string);
  }
  for (let i = 0; i < 4; i++) {
    const hook = await seed('post', '/v1/webhooks', { team_id: TEAM, url: RECEIVER, events: ['*'] });
    await seed('delete', `/v1/webhooks/${hook.id as string}`, undefined);
    pools.deletedWebhook.push(hook.id as string);
  }
  for (let i = 0; i < 10; i++) {
    const team = i % 3 === 2 ? OTHER_TEAM : TEAM;
    const event = await seed('post', '/v1/events', { event: 'create:task', team_id: team, data: { task: { id: i + 1 } } });
    pools.event.push(event.event_id as string);
    const detail = await seed('get', `/v1/events/${event.event_id as string}`, undefined);
    for (const d of detail.deliveries as Array<{ id: string }>) pools.delivery.push(d.id);
  }
  const firstHook = pools.webhook[0] as string;
  pools.cursorWebhooks.push((await seed('get', '/v1/webhooks?limit=1', undefined)).next_cursor as string);
  pools.cursorDeliveries.push((await seed('get', `/v1/webhooks/${firstHook}/deliveries?limit=1`, undefined)).next_cursor as string);
}, 120_000);

afterAll(async () => {
  agent.destroy();
  server?.closeAllConnections();
  server?.close();
  await api?.close();
});

describe('fuzzing every route', () => {
  it('covers every route of the OpenAPI document, as served at /openapi.json', async () => {
    const served = JSON.parse((await sendOnce('get', '/openapi.json', {}, null)).text) as { paths: Record<string, object> };
    const servedRoutes = Object.entries(served.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(servedRoutes.sort());
    expect(routes.length).toBeGreaterThanOrEqual(19);
  });

  it(`${BATCHES * BATCH_SIZE} random requests: no 5xx, errors in the contract's shape, no stack traces, flat memory`, async () => {
    const stats = new Map<string, Map<number, number>>();
    const count = (req: FuzzRequest, status: number) => {
      const swapped = req.method === req.route.method ? '' : ` (as ${req.method.toUpperCase()})`;
      const key = `${req.route.method.toUpperCase()} ${req.route.path}${swapped}`;
      const byStatus = stats.get(key) ?? new Map<number, number>();
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      stats.set(key, byStatus);
    };
    let sent = 0;
    let batches = 0;
    let heapAtHalf = 0;
    const started = Date.now();

    // The public documentation routes take no input worth fuzzing and /openapi.json is
    // costly to build, so they are drawn a tenth as often as the /v1 routes.
    const routeArb = fc.oneof(...routes.map((route) => ({ weight: isPublic(route) ? 1 : 10, arbitrary: fc.constant(route) })));
    const batch = fc.array(routeArb.chain(requestArb), { minLength: BATCH_SIZE, maxLength: BATCH_SIZE });
    await fc.assert(
      fc.asyncProperty(batch, async (requests) => {
        const answers = await Promise.all(requests.map(async (req) => ({ req, answer: await perform(req) })));
        const failures: string[] = [];
        for (const { req, answer } of answers) {
          sent++;
          count(req, answer.status);
          learn(req, answer);
          const problems = problemsOf(req, answer);
          if (problems.length > 0) {
            failures.push(
              `${req.method.toUpperCase()} ${pathOf(req).slice(0, 300)} as ${typeof req.auth === 'string' ? req.auth : 'raw'} ` +
                `[${req.contentType}] body ${JSON.stringify(req.body?.slice(0, 300))}: ${problems.join('; ')}`,
            );
          }
        }
        batches++;
        if (batches === Math.floor(BATCHES / 2)) heapAtHalf = heapUsedMb();
        if (failures.length > 0) throw new Error(failures.join('\n'));
      }),
      { numRuns: BATCHES, endOnFailure: true },
    );
    const heapAtEnd = heapUsedMb();

    const health = await sendOnce('get', '/healthz', {}, null);
    const ready = await sendOnce('get', '/readyz', {}, null);

    const lines = [...stats.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([route, byStatus]) => {
        const total = [...byStatus.values()].reduce((a, b) => a + b, 0);
        const parts = [...byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`);
        return `  ${route.padEnd(50)} ${String(total).padStart(5)}  ${parts.join(' ')}`;
      });
    console.log(
      [
        `fuzz: ${sent} requests in ${Math.round((Date.now() - started) / 1000)} s; heap after GC${gc ? '' : ' (no gc available)'} ` +
          `${heapAtHalf.toFixed(1)} MB at half, ${heapAtEnd.toFixed(1)} MB at the end`,
        ...lines,
      ].join('\n'),
    );

    expect(sent).toBeGreaterThanOrEqual(10_000);
    expect(health.status).toBe(200);
    expect(ready.status).toBe(200);
    // Every documented route was hit many times, and each one that can succeed did
    // (so the fuzz reached past auth and validation into the real handlers).
    for (const route of routes) {
      const byStatus = stats.get(`${route.method.toUpperCase()} ${route.path}`);
      const total = [...(byStatus?.values() ?? [])].reduce((a, b) => a + b, 0);
      expect({ route, total: total >= (isPublic(route) ? 30 : 150) }).toEqual({ route, total: true });
      if (!route.path.endsWith('/test')) {
        const successes = [...(byStatus?.entries() ?? [])].filter(([s]) => s < 300).length;
        expect({ route, succeeded: successes > 0 }).toEqual({ route, succeeded: true });
      }
    }
    expect(heapAtEnd - heapAtHalf).toBeLessThan(50);
  }, 600_000);
});

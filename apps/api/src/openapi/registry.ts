import { z } from 'zod';

/**
 * The OpenAPI document is generated from the very zod schemas the routes validate with,
 * so the docs cannot drift from the behaviour. Route modules call `registerRoute` once
 * per method and path (at module top level or in their factory: a repeat replaces the
 * earlier entry), and `/openapi.json` calls `buildOpenApiDocument`.
 *
 * Give a schema a component name with `.meta({ id: 'Webhook' })`; it then appears once
 * under `components.schemas` and is referenced everywhere else.
 */

export type HttpMethod = 'get' | 'post' | 'patch' | 'put' | 'delete';

export interface RouteResponse {
  description: string;
  /** Omit for responses without a body (204). */
  schema?: z.ZodType;
}

export interface RouteSpec {
  method: HttpMethod;
  /** OpenAPI style, e.g. `/v1/webhooks/{id}`; every `{name}` becomes a string path parameter. */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  operationId?: string;
  /** A JSON request body, documented as the schema's input type (defaults optional). */
  body?: z.ZodType;
  /** An object schema whose properties become query parameters. */
  query?: z.ZodType;
  responses: Record<number, RouteResponse>;
  /** Defaults to true for `/v1` paths: they need `Authorization: Bearer`. */
  auth?: boolean;
}

/** The contract's error shape, shared by every error response. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ examples: ['validation_error'] }),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })),
    }),
  })
  .meta({ id: 'Error' });

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'Invalid input; `details` names every failing field',
  401: 'No bearer token, or an unknown one',
  403: 'The token may not do this (admin route, or another team named)',
  404: 'No such object, or it belongs to another team',
  405: 'Method not allowed on this route',
  409: 'Conflict',
  413: 'Body larger than 1 MiB',
  415: 'Body is not JSON',
  503: 'PostgreSQL or Redis unreachable',
};

/** Standard error responses to spread into `responses`, e.g. `...errorResponses(400, 404)`. */
export function errorResponses(...statuses: number[]): Record<number, RouteResponse> {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: ERROR_DESCRIPTIONS[status] ?? 'Error', schema: errorSchema }]),
  );
}

const routes = new Map<string, RouteSpec>();

export function registerRoute(spec: RouteSpec): void {
  routes.set(`${spec.method} ${spec.path}`, spec);
}

/** Registered routes as `METHOD path` pairs, for tests that check the document covers them. */
export function registeredRoutes(): Array<{ method: HttpMethod; path: string }> {
  return [...routes.values()].map(({ method, path }) => ({ method, path }));
}

type JsonSchema = Record<string, unknown>;

const DEFINITIONS_PREFIX = '#/definitions/';
const COMPONENTS_PREFIX = '#/components/schemas/';

function rewriteRefs(value: unknown, rename: (name: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, rename));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === '$ref' && typeof child === 'string' && child.startsWith(DEFINITIONS_PREFIX)) {
      out[key] = COMPONENTS_PREFIX + rename(child.slice(DEFINITIONS_PREFIX.length));
    } else {
      out[key] = rewriteRefs(child, rename);
    }
  }
  return out;
}

// zod's "openapi-3.0" target still writes a few JSON Schema keywords that a 3.0 Schema
// Object does not have; they are translated here, walking only schema positions so that a
// property that happens to be named "examples" is left alone.
const SCHEMA_MAPS = ['properties', 'patternProperties'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf'];
const SCHEMA_SINGLES = ['items', 'additionalProperties', 'not'];

function toOas30(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema' || key === '$id' || key === 'id') continue;
    if (key === 'examples' && Array.isArray(value)) {
      if (value.length > 0 && !('example' in schema)) out.example = value[0];
    } else if (key === 'const') {
      out.enum = [value];
    } else if (SCHEMA_MAPS.includes(key) && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, child]) => [name, toOas30(child)]));
    } else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) {
      out[key] = value.map(toOas30);
    } else if (SCHEMA_SINGLES.includes(key)) {
      out[key] = toOas30(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Collects named schemas into `components.schemas`, keeping input and output shapes apart when they differ. */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const raw = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as JsonSchema;
    const { definitions, ...rest } = raw as JsonSchema & { definitions?: Record<string, JsonSchema> };
    const names = new Map<string, string>();
    for (const [id, def] of Object.entries(definitions ?? {})) names.set(id, this.nameFor(id, io, def));
    const rename = (id: string) => names.get(id) ?? id;
    for (const [id, def] of Object.entries(definitions ?? {})) {
      this.schemas[rename(id)] = toOas30(rewriteRefs(def, rename)) as JsonSchema;
    }
    return toOas30(rewriteRefs(rest, rename)) as JsonSchema;
  }

  // The refs inside `def` are not renamed yet, so equality is judged on the raw text;
  // good enough to tell "same schema registered again" from "input differs from output".
  private nameFor(id: string, io: 'input' | 'output', def: JsonSchema): string {
    const existing = this.schemas[id];
    if (!existing || JSON.stringify(toOas30(rewriteRefs(def, (n) => n))) === JSON.stringify(existing)) return id;
    const alternative = `${id}${io === 'input' ? 'Input' : 'Output'}`;
    return alternative;
  }
}

function operationIdOf(spec: RouteSpec): string {
  const words = spec.path
    .split('/')
    .filter(Boolean)
    .map((part) => part.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase()));
  return [spec.method, ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

function queryParameters(components: Components, query: z.ZodType): JsonSchema[] {
  const schema = components.convert(query, 'input');
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: 'query',
      required: required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: propertySchema,
    };
  });
}

function operationOf(components: Components, spec: RouteSpec): JsonSchema {
  const parameters: JsonSchema[] = [...spec.path.matchAll(/\{([^}]+)\}/g)].map((match) => ({
    name: match[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (spec.query) parameters.push(...queryParameters(components, spec.query));

  const responses: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.schema
        ? { content: { 'application/json': { schema: components.convert(response.schema, 'output') } } }
        : {}),
    };
  }

  const needsAuth = spec.auth ?? spec.path.startsWith('/v1/');
  return {
    operationId: spec.operationId ?? operationIdOf(spec),
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.tags ? { tags: spec.tags } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: components.convert(spec.body, 'input') } },
          },
        }
      : {}),
    responses,
    ...(needsAuth ? { security: [{ bearerAuth: [] }] } : {}),
  };
}

export interface DocumentInfo {
  title?: string;
  version?: string;
  description?: string;
}

/** An OpenAPI 3.0 document of every registered route. */
export function buildOpenApiDocument(info: DocumentInfo = {}): Record<string, unknown> {
  const components = new Components();
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const sorted = [...routes.values()].sort((a, b) => a.path.localeCompare(b.path));
  for (const spec of sorted) {
    const item = (paths[spec.path] ??= {});
    item[spec.method] = operationOf(components, spec);
  }
  return {
    openapi: '3.0.3',
    info: {
      title: info.title ?? 'Hooklane API',
      version: info.version ?? '1.0.0',
      description:
        info.description ??
        'Webhook delivery service: register webhooks, emit events, inspect and replay deliveries. ' +
          'Every /v1 route needs `Authorization: Bearer <admin token or team key>`.',
    },
    paths,
    components: {
      schemas: components.schemas,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
    },
  };
}

import { z } from 'zod';
import { createDocument, type ZodObjectInput, type ZodOpenApiOperationObject, type ZodOpenApiParameters, type ZodOpenApiResponsesObject } from 'zod-openapi';

/**
 * The OpenAPI document is generated from the very zod schemas the routes validate with,
 * so the docs cannot drift from the behaviour. Route modules call `registerRoute` once
 * per method and path (at module top level or in their factory: a repeat replaces the
 * earlier entry), and `/openapi.json` calls `buildOpenApiDocument`, which hands them to
 * zod-openapi as an OpenAPI 3.1 document.
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
  query?: ZodObjectInput;
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

function operationIdOf(spec: RouteSpec): string {
  const words = spec.path
    .split('/')
    .filter(Boolean)
    .map((part) => part.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase()));
  return [spec.method, ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

/** Every `{name}` of the path, as a required string parameter. */
function pathParameters(path: string): ZodObjectInput | undefined {
  const names = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
  return names.length ? z.object(Object.fromEntries(names.map((name) => [name, z.string()]))) : undefined;
}

function requestParams(spec: RouteSpec): ZodOpenApiParameters {
  const params: ZodOpenApiParameters = {};
  const path = pathParameters(spec.path);
  if (path) params.path = path;
  if (spec.query) params.query = spec.query;
  return params;
}

function jsonContent(schema: z.ZodType) {
  return { 'application/json': { schema } };
}

function operationOf(spec: RouteSpec): ZodOpenApiOperationObject {
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status as `${1 | 2 | 3 | 4 | 5}${string}`] = {
      description: response.description,
      ...(response.schema ? { content: jsonContent(response.schema) } : {}),
    };
  }
  const needsAuth = spec.auth ?? spec.path.startsWith('/v1/');
  return {
    operationId: spec.operationId ?? operationIdOf(spec),
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.tags ? { tags: spec.tags } : {}),
    requestParams: requestParams(spec),
    ...(spec.body ? { requestBody: { required: true, content: jsonContent(spec.body) } } : {}),
    responses,
    ...(needsAuth ? { security: [{ bearerAuth: [] }] } : {}),
  };
}

export interface DocumentInfo {
  title?: string;
  version?: string;
  description?: string;
}

/**
 * An OpenAPI 3.1 document of every registered route, written by zod-openapi: request bodies
 * and query parameters in their input shape, responses in their output shape, and a schema
 * whose two shapes differ named twice (`Name` and `NameOutput`).
 */
export function buildOpenApiDocument(info: DocumentInfo = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, ZodOpenApiOperationObject>> = {};
  const sorted = [...routes.values()].sort((a, b) => a.path.localeCompare(b.path));
  for (const spec of sorted) (paths[spec.path] ??= {})[spec.method] = operationOf(spec);
  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: info.title ?? 'Hooklane API',
        version: info.version ?? '1.0.0',
        description:
          info.description ??
          'Webhook delivery service: register webhooks, emit events, inspect and replay deliveries. ' +
            'Every /v1 route needs `Authorization: Bearer <admin token or team key>`.',
      },
      paths,
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
  ) as unknown as Record<string, unknown>;
}

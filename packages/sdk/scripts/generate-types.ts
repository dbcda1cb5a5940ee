/**
 * Turns the API's OpenAPI document (built from the zod schemas the routes validate with) into
 * src/generated/openapi.ts: one named type per component schema and one entry per operation.
 *
 * Own code rather than openapi-typescript: that package's peer range stops at TypeScript 5,
 * and the document only uses the small subset of JSON Schema that zod writes.
 *
 *   npx tsx packages/sdk/scripts/generate-types.ts [url-or-file] > packages/sdk/src/generated/openapi.ts
 * (default url http://127.0.0.1:3000/openapi.json, e.g. under `npm run dev`), or
 *   UPDATE_SDK_TYPES=1 npm test -- packages/sdk/test/generated-types.test.ts
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

type Schema = Record<string, unknown>;
interface OpenApiDocument {
  paths: Record<string, Record<string, Schema>>;
  components?: { schemas?: Record<string, Schema> };
}

const REF_PREFIX = '#/components/schemas/';
const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const key = (name: string) => (IDENTIFIER.test(name) ? name : JSON.stringify(name));
const pad = (depth: number) => '  '.repeat(depth);

function comment(schema: Schema, depth: number): string {
  const text = typeof schema.description === 'string' ? schema.description : '';
  return text ? `${pad(depth)}/** ${text.replace(/\*\//g, '*\\/').replace(/\n/g, ' ')} */\n` : '';
}

function objectType(schema: Schema, depth: number): string {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const extra = schema.additionalProperties;
  const lines = Object.entries(properties).map(
    ([name, property]) =>
      `${comment(property, depth + 1)}${pad(depth + 1)}${key(name)}${required.has(name) ? '' : '?'}: ${typeOf(property, depth + 1)};`,
  );
  if (extra && typeof extra === 'object') {
    lines.push(`${pad(depth + 1)}[key: string]: ${typeOf(extra as Schema, depth + 1)};`);
  } else if (extra !== false && lines.length === 0) {
    return 'Record<string, unknown>';
  }
  return lines.length ? `{\n${lines.join('\n')}\n${pad(depth)}}` : 'Record<string, never>';
}

/** The TypeScript type of one schema; `depth` only drives indentation. */
export function typeOf(schema: Schema, depth = 0): string {
  if (typeof schema.$ref === 'string') return schema.$ref.slice(REF_PREFIX.length);
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    const members = ((schema.anyOf ?? schema.oneOf) as Schema[]).map((s) => typeOf(s, depth));
    return [...new Set(members)].join(' | ');
  }
  if (Array.isArray(schema.allOf)) return (schema.allOf as Schema[]).map((s) => `(${typeOf(s, depth)})`).join(' & ');
  // OpenAPI 3.1 writes a nullable scalar as `type: ['string', 'null']`.
  if (Array.isArray(schema.type)) return (schema.type as string[]).map((type) => typeOf({ ...schema, type }, depth)).join(' | ');
  if (schema.type === 'object' || schema.properties) return objectType(schema, depth);
  if (schema.type === 'array') {
    const item = typeOf((schema.items ?? {}) as Schema, depth);
    return /^[A-Za-z0-9_]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
  }
  if (schema.type === 'integer' || schema.type === 'number') return 'number';
  if (schema.type === 'string') return 'string';
  if (schema.type === 'boolean') return 'boolean';
  if (schema.type === 'null') return 'null';
  return 'unknown';
}

function jsonSchemaOf(holder: Schema | undefined): Schema | undefined {
  const content = holder?.content as Record<string, { schema?: Schema }> | undefined;
  return content?.['application/json']?.schema;
}

function operationType(path: string, operation: Schema): string {
  const parameters = (operation.parameters ?? []) as Array<{ name: string; in: string; required?: boolean; schema: Schema; description?: string }>;
  const group = (where: string) => {
    const list = parameters.filter((p) => p.in === where);
    if (!list.length) return 'never';
    const lines = list.map(
      (p) => `${comment(p as unknown as Schema, 3)}${pad(3)}${key(p.name)}${p.required ? '' : '?'}: ${typeOf(p.schema, 3)};`,
    );
    return `{\n${lines.join('\n')}\n${pad(2)}}`;
  };
  const body = jsonSchemaOf(operation.requestBody as Schema | undefined);
  const responses = (operation.responses ?? {}) as Record<string, Schema>;
  const success = Object.keys(responses).find((status) => status.startsWith('2'));
  const response = success ? jsonSchemaOf(responses[success]) : undefined;
  return [
    `{`,
    `${pad(2)}path: ${group('path')};`,
    `${pad(2)}query: ${group('query')};`,
    `${pad(2)}body: ${body ? typeOf(body, 2) : 'never'};`,
    `${pad(2)}status: ${success ?? 'never'};`,
    `${pad(2)}response: ${response ? typeOf(response, 2) : 'void'};`,
    `${pad(1)}}`,
  ].join('\n');
}

/** The whole generated module, as text. */
export function generateTypes(doc: OpenApiDocument): string {
  const out = [
    '// Generated from the Hooklane API\'s OpenAPI document by packages/sdk/scripts/generate-types.ts.',
    '// Do not edit: packages/sdk/test/generated-types.test.ts fails when this file and the API differ.',
    '/* eslint-disable */',
    '',
  ];
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    out.push(`${comment(schema, 0)}export type ${name} = ${typeOf(schema, 0)};`, '');
  }
  out.push('/** Every `/v1` operation, keyed `METHOD /path`; `response` is the 2xx body. */', 'export interface Operations {');
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation) out.push(`${pad(1)}${JSON.stringify(`${method.toUpperCase()} ${path}`)}: ${operationType(path, operation)};`);
    }
  }
  out.push('}', '');
  return out.join('\n');
}

async function main(): Promise<void> {
  const source = process.argv[2] ?? 'http://127.0.0.1:3000/openapi.json';
  const text = /^https?:/.test(source) ? await (await fetch(source)).text() : await readFile(source, 'utf8');
  process.stdout.write(generateTypes(JSON.parse(text) as OpenApiDocument));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();

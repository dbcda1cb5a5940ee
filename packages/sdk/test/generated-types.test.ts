import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';
import { generateTypes } from '../scripts/generate-types.js';

/**
 * The SDK's types come from the API's live OpenAPI document. This fails when the committed
 * src/generated/openapi.ts differs from what the running API documents (regenerate with
 * UPDATE_SDK_TYPES=1), and shows that a field the API gains stops the SDK compiling until
 * someone handles it.
 */

const here = dirname(fileURLToPath(import.meta.url));
const sdkRoot = join(here, '..');
const repoRoot = join(sdkRoot, '..', '..');
const generatedFile = join(sdkRoot, 'src', 'generated', 'openapi.ts');
const run = promisify(execFile);

type Doc = Parameters<typeof generateTypes>[0];
let api: TestApi;
let doc: Doc;

beforeAll(async () => {
  api = await startTestApi('sdktypes');
  const res = await request(api.app).get('/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body as Doc;
});

afterAll(async () => {
  await api?.close();
});

/** Compiles a copy of the SDK's sources with `generated` as its openapi.ts. */
async function compileWith(generated: string): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hooklane-sdk-types-'));
  try {
    await cp(join(sdkRoot, 'src'), join(dir, 'src'), { recursive: true });
    await writeFile(join(dir, 'src', 'generated', 'openapi.ts'), generated);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(repoRoot, 'tsconfig.json'),
        compilerOptions: { noEmit: true, typeRoots: [join(repoRoot, 'node_modules', '@types')], types: ['node'] },
        include: ['src'],
      }),
    );
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')]).then(
      (r) => ({ ok: true, output: r.stdout }),
      (e: { stdout?: string }) => ({ ok: false, output: e.stdout ?? String(e) }),
    );
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('generated API types', () => {
  it('src/generated/openapi.ts is what the live /openapi.json generates', async () => {
    const fresh = generateTypes(doc);
    if (process.env.UPDATE_SDK_TYPES === '1') await writeFile(generatedFile, fresh);
    expect(await readFile(generatedFile, 'utf8')).toBe(fresh);
  });

  it('covers every /v1 operation the API documents', () => {
    const fresh = generateTypes(doc);
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const method of Object.keys(item)) expect(fresh).toContain(`"${method.toUpperCase()} ${path}"`);
    }
  });

  it('every /v1 operation the API documents is called by an SDK method, and no other', async () => {
    const documented = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    const resources = join(sdkRoot, 'src', 'resources');
    const called = new Set<string>();
    for (const file of await readdir(resources)) {
      const code = await readFile(join(resources, file), 'utf8');
      for (const [, operation] of code.matchAll(/callOperation\(\s*this\.transport,\s*'([A-Z]+ \/v1\/[^']*)'/g)) called.add(operation!);
    }
    expect([...called].sort()).toEqual([...new Set(documented)].sort());
  });

  it('a field added to an API object (v1.0 or v1.1) is a type error in the SDK until handled', async () => {
    type Schemas = Record<string, { properties: Record<string, unknown>; required: string[] }>;
    const grow = (schema: string) => {
      const grown = structuredClone(doc) as Doc & { components: { schemas: Schemas } };
      const target = grown.components.schemas[schema]!;
      target.properties.brand_new_field = { type: 'string' };
      target.required.push('brand_new_field');
      return generateTypes(grown);
    };

    const [unchanged, ...changed] = await Promise.all([
      compileWith(generateTypes(doc)),
      compileWith(grow('Webhook')),
      compileWith(grow('PortalSession')),
    ]);
    expect(unchanged).toEqual({ ok: true, output: '' });
    for (const result of changed) {
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/src\/types\.ts.*error TS/);
    }
  });
});

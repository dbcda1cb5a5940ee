import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSdkHarness, type SdkHarness } from './harness.js';

/**
 * What a user gets from `npm pack -w @hooklane/sdk`: the tarball installed into an empty
 * folder outside the repo, imported from plain Node ESM (and calling the real API), and
 * type-checked from a TypeScript file.
 */

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let scratch: string;
let h: SdkHarness;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'hooklane-sdk-pack-'));
  h = await startSdkHarness('sdkpacked');
  const { stdout } = await run('npm', ['pack', '-w', '@hooklane/sdk', '--pack-destination', scratch, '--json'], {
    cwd: repoRoot,
    maxBuffer: 10 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  await writeFile(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  await run('npm', ['install', join(scratch, packed!.filename), '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: scratch,
  });
}, 180_000);

afterAll(async () => {
  await h?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** The code blocks under the README's "Platform side" and "Receiver side" headings. */
function readmeSnippets(readme: string): [string, string] {
  const block = (heading: string) => {
    const section = readme.slice(readme.indexOf(heading));
    return /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  };
  return [block('## Platform side'), block('## Receiver side')];
}

describe('the packed @hooklane/sdk', () => {
  it('holds the built ESM, declarations and README, and no dependency of its own', async () => {
    const installed = join(scratch, 'node_modules', '@hooklane', 'sdk');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.type).toBe('module');
    const files = await readdir(installed, { recursive: true });
    expect(files).toEqual(expect.arrayContaining(['README.md', 'dist/index.js', 'dist/index.d.ts']));
    expect(files.some((f) => f.startsWith('src') || f.startsWith('test'))).toBe(false);
    // Every import in the built code is relative or a node: builtin.
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      const code = await readFile(join(installed, file), 'utf8');
      for (const [, specifier] of code.matchAll(/(?:from|import)\s*['"]([^'"]+)['"]/g)) {
        expect(`${file}: ${specifier}`).toMatch(/: (\.{1,2}\/|node:)/);
      }
    }
  });

  it('@hooklane/sdk/client loads nothing from node:, for fetch-only runtimes', async () => {
    const installed = join(scratch, 'node_modules', '@hooklane', 'sdk');
    const seen = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = await readFile(join(installed, 'dist', file), 'utf8');
      for (const [, specifier] of code.matchAll(/(?:from|import)\s*['"]([^'"]+)['"]/g)) {
        expect(`${file}: ${specifier}`).toMatch(/: \.{1,2}\//);
        await visit(join(dirname(file), specifier!));
      }
    };
    await visit('client-only.js');
    expect(seen.size).toBeGreaterThan(5);
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "import('@hooklane/sdk/client').then((m) => console.log(Object.keys(m).sort().join()))"], { cwd: scratch });
    expect(stdout.trim()).toBe('Hooklane,HooklaneError,PageIterator');
  });

  it('its README shows the platform side and the receiver side in under 20 lines each', async () => {
    const readme = await readFile(join(scratch, 'node_modules', '@hooklane', 'sdk', 'README.md'), 'utf8');
    for (const snippet of readmeSnippets(readme)) {
      expect(snippet).toContain('@hooklane/sdk');
      expect(snippet.trimEnd().split('\n').length).toBeLessThan(20);
    }
  });

  it('imports from plain Node ESM and talks to the API', async () => {
    const script = `
      import { Hooklane, HooklaneError, verifyWebhook, hooklaneReceiver, WebhookVerificationError } from '@hooklane/sdk';
      const hl = new Hooklane({ baseUrl: process.env.API, token: process.env.TOKEN });
      const { data } = await hl.eventTypes.list();
      const error = await hl.webhooks.get('wh_missing').catch((e) => e);
      let verification;
      try { verifyWebhook('whsec_MTIzNDU2Nzg5MDEyMzQ1Ng==', {}, '{}'); } catch (e) { verification = e; }
      console.log(JSON.stringify({
        types: data.length,
        error: [error instanceof HooklaneError, error.status, error.code],
        verification: [verification instanceof WebhookVerificationError, verification.reason],
        receiver: typeof hooklaneReceiver({ secret: 'x-secret-123' }),
      }));
    `;
    await writeFile(join(scratch, 'main.mjs'), script);
    const { stdout } = await run(process.execPath, ['main.mjs'], {
      cwd: scratch,
      env: { PATH: process.env.PATH, API: h.baseUrl, TOKEN: 'test-admin-token-0123456789' },
    });
    expect(JSON.parse(stdout)).toEqual({
      types: expect.any(Number),
      error: [true, 404, 'not_found'],
      verification: [true, 'missing_headers'],
      receiver: 'function',
    });
    expect(JSON.parse(stdout).types).toBeGreaterThan(10);
  });

  it('type-checks from a TypeScript file, and the types catch a misspelt field', async () => {
    const source = `
      import { Hooklane, HooklaneError, verifyWebhook, type Webhook, type WebhookEnvelope } from '@hooklane/sdk';
      const hl = new Hooklane({ baseUrl: 'http://localhost:3000', token: 'hlk_x', retries: 5 });
      export async function main(signal: AbortSignal): Promise<string[]> {
        const wh = await hl.webhooks.create({ team_id: 7, url: 'https://example.com/h', events: ['create:task'], retries_count: 8 });
        const secret: string = wh.secret;
        const ids: string[] = [];
        for await (const w of hl.webhooks.list({ team_id: 7, is_active: true })) ids.push((w satisfies Webhook).id);
        const { event_id } = await hl.events.emit({ event: 'create:task', team_id: 7, data: {} }, { idempotencyKey: 'k', signal });
        const erased: number = (await hl.teams.erase(7)).webhooks;
        const session = await hl.portal.createSession({ team_id: 7, read_only: true });
        // @ts-expect-error retry_count is not a webhook field (retries_count is)
        await hl.webhooks.update(wh.id, { retry_count: 3 });
        try { await hl.deliveries.redeliver('dlv_1'); } catch (e) { if (e instanceof HooklaneError) ids.push(e.code, String(e.status)); }
        const envelope: WebhookEnvelope = verifyWebhook([secret], new Headers(), '{}', { toleranceSeconds: 60 });
        return [...ids, event_id, String(erased), session.url, envelope.event];
      }
    `;
    await writeFile(join(scratch, 'check.ts'), source);
    // The README's two snippets, as shipped in the tarball, must compile too.
    const readme = await readFile(join(scratch, 'node_modules', '@hooklane', 'sdk', 'README.md'), 'utf8');
    const [platform, receiver] = readmeSnippets(readme);
    await writeFile(join(scratch, 'readme-platform.ts'), `${platform}\nexport {};\n`);
    await writeFile(join(scratch, 'readme-receiver.ts'), `${receiver}\nexport {};\n`);
    await writeFile(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          lib: ['ES2023', 'DOM'],
          typeRoots: [join(repoRoot, 'node_modules', '@types')],
          types: ['node'],
          // express is only an optional peer; its types come from the repo for the README snippet.
          paths: { express: [join(repoRoot, 'node_modules', '@types', 'express', 'index.d.ts')] },
        },
        files: ['check.ts', 'readme-platform.ts', 'readme-receiver.ts'],
      }),
    );
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: scratch }).then(
      () => 'ok',
      (e: { stdout?: string }) => e.stdout ?? String(e),
    );
    expect(result).toBe('ok');
  });
});

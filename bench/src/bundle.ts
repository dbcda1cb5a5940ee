/**
 * Optional (BENCH_RUNTIME=bundle): the API and the worker bundled with esbuild into plain
 * JavaScript, then run with bare `node`, as `npm run start:api` / `start:worker` run the
 * built output, without tsx compiling sources at run time. Workspace packages are bundled
 * in; npm packages stay imports resolved from the repo's node_modules.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { REPO_ROOT } from './children/registry.js';
import { API_ENTRY, RAW_CLIENT_ENTRY, WORKER_ENTRY } from './stack.js';

const externalNpmPackages: Plugin = {
  name: 'external-npm-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@hooklane/') ? undefined : { path: args.path, external: true }));
  },
};

export interface Bundles {
  api: string;
  worker: string;
  /** The raw baseline client too, so that it runs on the same footing as the worker. */
  rawClient: string;
}

export async function buildBundles(runId: string): Promise<Bundles> {
  // Inside the repo, so that the bundles' imports resolve from its node_modules.
  const dir = resolve(REPO_ROOT, 'bench/.build', runId);
  mkdirSync(dir, { recursive: true });
  const out = { api: resolve(dir, 'api.mjs'), worker: resolve(dir, 'worker.mjs'), rawClient: resolve(dir, 'raw-client.mjs') };
  for (const [entry, outfile] of [
    [API_ENTRY, out.api],
    [WORKER_ENTRY, out.worker],
    [RAW_CLIENT_ENTRY, out.rawClient],
  ] as const) {
    await build({
      entryPoints: [resolve(REPO_ROOT, entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['development'],
      logLevel: 'warning',
      plugins: [externalNpmPackages],
      // Bundled CommonJS helpers may call require().
      banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
    });
  }
  return out;
}

import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Docker does not run in CI, so this reads the Dockerfile for the mistakes that only show up
// at `docker build` or at run time: a workspace missing from the image, running as root.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());

interface Stage {
  name: string;
  lines: string[];
}

function stages(): Stage[] {
  const result: Stage[] = [];
  for (const line of dockerfile.replace(/\\\n/g, ' ').split('\n')) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) result.push({ name: (from[1] ?? '').toLowerCase(), lines: [] });
    else if (line.trim() && !line.trim().startsWith('#')) result.at(-1)?.lines.push(line.trim());
  }
  return result;
}

// Derived from package.json's "workspaces" (npm's own `dir/*` globs or plain paths), so a new glob is covered too.
const workspaceGlobs = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
const workspaces = workspaceGlobs.flatMap((glob) => {
  if (!glob.endsWith('/*')) return existsSync(join(root, glob, 'package.json')) ? [glob] : [];
  const dir = glob.slice(0, -2);
  return readdirSync(join(root, dir))
    .filter((name) => existsSync(join(root, dir, name, 'package.json')))
    .map((name) => `${dir}/${name}`);
});

describe('Dockerfile', () => {
  const all = stages();
  const stage = (name: string) => all.find((s) => s.name === name);
  const runtime = all.at(-1)!;

  it('installs with npm ci, builds with npm run build, and ends in a runtime stage', () => {
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all.flatMap((s) => s.lines).some((l) => /^RUN .*npm ci\b/.test(l))).toBe(true);
    expect(stage('build')?.lines.some((l) => /^RUN .*npm run build\b/.test(l))).toBe(true);
    expect(runtime.name).toBe('runtime');
  });

  it('copies every workspace manifest before npm ci, so the lockfile install sees them all', () => {
    const deps = stage('deps')!.lines.join('\n');
    expect(workspaceGlobs.length).toBeGreaterThan(0);
    expect(workspaces.length).toBeGreaterThanOrEqual(5);
    for (const ws of workspaces) expect(deps).toContain(`${ws}/package.json`);
    // postinstall runs `prisma generate`, which reads these.
    expect(deps).toMatch(/COPY .*prisma\.config\.ts/);
    expect(deps).toMatch(/COPY prisma /);
  });

  it('ships every workspace\'s built output, the migrations and node_modules', () => {
    const copied = runtime.lines.filter((l) => l.startsWith('COPY')).join('\n');
    // Only workspaces with a build reach run time (the ESLint config is a dev tool).
    const built = workspaces.filter((ws) => (JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8')) as { scripts?: { build?: string } }).scripts?.build);
    expect(built.length).toBeGreaterThanOrEqual(5);
    for (const ws of built) {
      expect(copied).toContain(`/app/${ws}/dist`);
      expect(copied).toContain(`/app/${ws}/package.json`);
    }
    expect(copied).toContain('/app/prisma ');
    expect(copied).toContain('/app/node_modules');
  });

  it('runs as a non-root user and starts the API by default', () => {
    const user = runtime.lines.filter((l) => l.startsWith('USER')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER\s+(root|0)\b/);
    // node itself, so `docker stop` delivers SIGTERM to the API rather than to npm.
    expect(runtime.lines.at(-1)).toBe('CMD ["node", "apps/api/dist/main.js"]');
  });

  it('keeps the start scripts the image relies on', () => {
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts;
    expect(scripts['start:api']).toMatch(/^(exec )?node apps\/api\/dist\/main\.js$/);
    expect(scripts['start:worker']).toMatch(/^(exec )?node --max-semi-space-size=8 apps\/worker\/dist\/main\.js$/);
    expect(scripts['db:migrate']).toContain('prisma migrate deploy');
  });
});

describe('.dockerignore', () => {
  it.each(['**/node_modules', '**/dist', '.git', '.env'])('keeps %s out of the build context', (entry) => {
    expect(dockerignore).toContain(entry);
  });

  it('keeps the generated Prisma client out, so npm ci regenerates it for the image platform', () => {
    expect(dockerignore).toContain('packages/db/src/generated');
  });
});

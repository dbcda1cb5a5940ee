/**
 * The dashboard part of `npm run dev`: build it when it was never built (the API serves the
 * build at /portal), then open a portal session for the dev team and print (and, in a
 * terminal with a desktop, open) its URL.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function ensureDashboardBuilt(root: string, say: (text: string) => void): void {
  const dashboard = join(root, 'apps/dashboard');
  if (existsSync(join(dashboard, 'dist/index.html'))) return;
  say('building the dashboard (apps/dashboard, vite build) for /portal');
  const built = spawnSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: dashboard,
    stdio: 'inherit',
  });
  if (built.status !== 0) say('dashboard build failed; /portal will say so. Try: npm run build -w @hooklane/dashboard');
}

export async function openPortalSession(apiUrl: string, adminToken: string, teamId: number): Promise<string> {
  const res = await fetch(`${apiUrl}/v1/portal-sessions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ team_id: teamId, expires_in: 86_400 }),
  });
  if (!res.ok) throw new Error(`POST /v1/portal-sessions answered ${res.status}: ${await res.text()}`);
  const { url } = (await res.json()) as { url: string };
  return url;
}

/** Best effort: only in an interactive terminal, never in CI, and DEV_OPEN=0 turns it off. */
export function openInBrowser(url: string): void {
  if (!process.stdout.isTTY || process.env.CI || ['0', 'false', 'no'].includes((process.env.DEV_OPEN ?? '1').toLowerCase())) return;
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

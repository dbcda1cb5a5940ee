import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's chromium, driven by playwright-core (which never downloads a browser). Playwright
 * gives every launch a fresh temporary --user-data-dir; the flags keep Chromium off the
 * network it cannot reach here.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

const DASHBOARD = fileURLToPath(new URL('..', import.meta.url));

/** `npm test` builds the dashboard first (pretest); this covers running this file alone. */
export function ensureDashboardBuilt(): void {
  if (existsSync(`${DASHBOARD}/dist/index.html`)) return;
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: DASHBOARD, stdio: 'inherit' });
}

export interface LocalServer {
  server: Server;
  origin: string;
  close(): Promise<void>;
}

export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<LocalServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A page on another origin that frames the portal, as a platform's settings page would. */
export function embeddingPage(portalUrl: string): string {
  return `<!doctype html><title>Platform settings</title><h1>Platform settings</h1>
<iframe id="portal" title="Webhooks" src="${portalUrl.replace(/"/g, '&quot;')}" width="1000" height="700"></iframe>`;
}

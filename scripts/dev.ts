/**
 * `npm run dev`: a first look at Hooklane on one machine. Migrates the database, starts the
 * API, one worker and a local receiver (scripts/dev-receiver.ts), waits until the API is
 * ready, then sends one event through the whole path so a signed delivery shows up in the
 * [receiver] output, and prints the curls to do it again. Ctrl-C stops everything.
 *
 * Every default below can be overridden from the environment; DEV_DEMO=0 skips the demo.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getEventType } from '@hooklane/core';
import { sdkSnippet } from './dev-sdk-snippet.js';
import { ensureDashboardBuilt, openInBrowser, openPortalSession } from './dev-portal.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// A fixed secret so the receiver, started before the webhook exists, can check signatures.
const DEV_SECRET = 'whsec_aG9va2xhbmUtZGV2LW9ubHktc2VjcmV0';
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;
const DEMO_EVENT = 'labeling_job.completed';

const env: NodeJS.ProcessEnv = {
  ...process.env,
  ADMIN_TOKEN: process.env.ADMIN_TOKEN || 'dev-admin-token',
  ALLOW_PRIVATE_TARGETS: process.env.ALLOW_PRIVATE_TARGETS || 'true',
  LOG_LEVEL: process.env.LOG_LEVEL || 'info',
  // Loopback only: the dev admin token is printed and well known.
  HOST: process.env.HOST || '127.0.0.1',
  PORT: process.env.PORT || '3000',
  METRICS_PORT: process.env.METRICS_PORT || '9464',
  DEV_RECEIVER_PORT: process.env.DEV_RECEIVER_PORT || '4000',
  DEV_WEBHOOK_SECRET: process.env.DEV_WEBHOOK_SECRET || DEV_SECRET,
  DEV_TEAM_ID: process.env.DEV_TEAM_ID || '1',
};
const apiUrl = `http://127.0.0.1:${env.PORT}`;
const metricsUrl = `http://127.0.0.1:${env.METRICS_PORT}`;
const receiverUrl = `http://127.0.0.1:${env.DEV_RECEIVER_PORT}/hooks`;
const teamId = Number(env.DEV_TEAM_ID);
const demo = !['0', 'false', 'no'].includes((process.env.DEV_DEMO ?? '1').toLowerCase());

const useColor = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
const TAGS: Record<string, string> = {
  dev: paint(1, '[dev]'),
  migrate: paint(35, '[migrate]'),
  api: paint(36, '[api]'),
  worker: paint(33, '[worker]'),
  receiver: paint(32, '[receiver]'),
};
const say = (text: string) => process.stdout.write(`${TAGS.dev} ${text}\n`);

// pino's JSON is made for machines; in a terminal a short line reads better.
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v']);
function readable(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
    const level = LEVELS[Number(entry.level)] ?? String(entry.level ?? '');
    const rest = Object.entries(entry)
      .filter(([key]) => !OMITTED.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    const text = `${time} ${level.padEnd(5)} ${String(entry.msg ?? '')}${rest ? `  ${rest}` : ''}`;
    return Number(entry.level) >= 50 ? paint(31, text) : text;
  } catch {
    return line;
  }
}

const children = new Map<string, ChildProcess>();
let stopping = false;

function spawnPrefixed(name: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      for (const part of readable(line).split('\n')) process.stdout.write(`${TAGS[name]} ${part}\n`);
    });
  }
  return child;
}

/** A long-running child: if it dies on its own, the others are stopped too. */
function start(name: string, args: string[]): ChildProcess {
  const child = spawnPrefixed(name, args);
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (stopping) return;
    say(paint(31, `${name} exited (${signal ?? `code ${code}`}); stopping the others`));
    say(`a port in use? set PORT (${env.PORT}), METRICS_PORT (${env.METRICS_PORT}) or DEV_RECEIVER_PORT (${env.DEV_RECEIVER_PORT})`);
    void stopAll(1);
  });
  return child;
}

const tsxArgs = (file: string) => ['--conditions=development', '--import', 'tsx', join(root, file)];

async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  const exits = [...children.values()].map(
    (child) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve()))),
  );
  for (const child of children.values()) child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, STOP_TIMEOUT_MS);
  await Promise.all(exits);
  clearTimeout(timer);
  process.exit(exitCode);
}

function runMigrations(): Promise<void> {
  say('applying database migrations (prisma migrate deploy; creates the database if missing)');
  const child = spawnPrefixed('migrate', [join(root, 'node_modules/prisma/build/index.js'), 'migrate', 'deploy']);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`prisma migrate deploy exited with code ${code}`)),
    );
  });
}

async function waitFor(url: string, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (stopping) return;
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what} not ready at ${url} after ${READY_TIMEOUT_MS / 1000} s`);
}

async function call(method: string, path: string, token: string, body?: unknown): Promise<any> {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return json;
}

const demoData = getEventType(DEMO_EVENT)?.example ?? {};
const webhookBody = (secret: string) => ({
  team_id: teamId,
  url: receiverUrl,
  events: ['*'],
  secret,
  description: 'npm run dev receiver',
});
const eventBody = { event: DEMO_EVENT, team_id: teamId, project_id: demoData.project_id ?? null, data: demoData };

/** Creates (or reuses) the dev webhook and emits one event, so a delivery arrives unprompted. */
async function runDemo(): Promise<void> {
  const secret = env.DEV_WEBHOOK_SECRET!;
  const { key } = await call('POST', '/v1/api-keys', env.ADMIN_TOKEN!, { team_id: teamId });
  say(`created a team key for team ${teamId}: ${key}`);

  // Reuse the webhook of an earlier run, or every run would add one more delivery per event.
  const listed = await call('GET', `/v1/webhooks?team_id=${teamId}&limit=200`, key);
  let webhook = (listed.data as any[]).find((w) => w.url === receiverUrl && w.is_active);
  if (webhook) {
    const current = await call('GET', `/v1/webhooks/${webhook.id}/secret`, key);
    if (current.secret !== secret) await call('PATCH', `/v1/webhooks/${webhook.id}`, key, { secret });
    say(`reusing webhook ${webhook.id} -> ${receiverUrl}`);
  } else {
    webhook = await call('POST', '/v1/webhooks', key, webhookBody(secret));
    say(`created webhook ${webhook.id} -> ${receiverUrl} (events: *, secret: DEV_WEBHOOK_SECRET)`);
  }

  const accepted = await call('POST', '/v1/events', key, eventBody);
  say(`emitted ${DEMO_EVENT}: event ${accepted.event_id}, ${accepted.deliveries} delivery(ies); watch [receiver]`);
}

function printGuide(): void {
  const q = (value: unknown) => `'${JSON.stringify(value)}'`;
  const lines = [
    '',
    paint(1, 'Hooklane is running.'),
    `  API          ${apiUrl}   (docs ${apiUrl}/docs, metrics ${apiUrl}/metrics)`,
    `  worker       ${metricsUrl}/metrics and /healthz`,
    `  receiver     ${receiverUrl}   (add ?status=503 or ?delay_ms=2000 to the URL to try retries)`,
    `  admin token  ${paint(1, env.ADMIN_TOKEN!)}   (dev only; set ADMIN_TOKEN to choose another)`,
    '',
    'Try it (copy-paste into another terminal):',
    '',
    `  export HOOKLANE=${apiUrl} ADMIN_TOKEN=${env.ADMIN_TOKEN}`,
    '',
    '  # 1. a key for team ' + teamId,
    `  KEY=$(curl -s -X POST $HOOKLANE/v1/api-keys -H "Authorization: Bearer $ADMIN_TOKEN" \\`,
    `    -H 'Content-Type: application/json' -d ${q({ team_id: teamId })} | node -pe 'JSON.parse(require("fs").readFileSync(0)).key')`,
    '',
    '  # 2. a webhook to the local receiver, signed with the secret the receiver checks',
    `  curl -s -X POST $HOOKLANE/v1/webhooks -H "Authorization: Bearer $KEY" \\`,
    `    -H 'Content-Type: application/json' -d ${q(webhookBody(env.DEV_WEBHOOK_SECRET!))}`,
    '',
    '  # 3. an event: the receiver prints the signed delivery',
    `  curl -s -X POST $HOOKLANE/v1/events -H "Authorization: Bearer $KEY" \\`,
    `    -H 'Content-Type: application/json' -d ${q(eventBody)}`,
    '',
    '  # 4. what happened to it',
    '  curl -s "$HOOKLANE/v1/events/<event_id>" -H "Authorization: Bearer $KEY"',
    '',
    '  # 2-4 with the TypeScript SDK (packages/sdk; more in examples/): save as try-sdk.mts in the repo root, then',
    '  # npm run build -w @hooklane/sdk && KEY=$KEY npx tsx try-sdk.mts',
    ...sdkSnippet({ apiUrl, webhookBody: webhookBody(env.DEV_WEBHOOK_SECRET!), eventBody }).map((line) => `  ${line}`),
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  await runMigrations();
} catch (err) {
  say(paint(31, (err as Error).message));
  say('is PostgreSQL running and DATABASE_URL right? (default postgresql://postgres:postgres@127.0.0.1:5432/hooklane)');
  process.exit(1);
}

ensureDashboardBuilt(root, say);
start('receiver', tsxArgs('scripts/dev-receiver.ts'));
start('api', tsxArgs('apps/api/src/main.ts'));
start('worker', tsxArgs('apps/worker/src/main.ts'));

try {
  await waitFor(`${apiUrl}/readyz`, 'the API');
  await waitFor(`${metricsUrl}/healthz`, 'the worker');
} catch (err) {
  say(paint(31, `${(err as Error).message}; are Redis and PostgreSQL running?`));
  await stopAll(1);
}

printGuide();
if (!stopping) {
  await openPortalSession(apiUrl, env.ADMIN_TOKEN!, teamId).then(
    (url) => {
      say(`dashboard for team ${teamId} (portal session, 24 h): ${paint(1, url)}`);
      openInBrowser(url);
    },
    (err: unknown) => say(paint(31, `no portal session: ${(err as Error).message}`)),
  );
}
if (demo && !stopping) {
  await runDemo().catch((err: unknown) => say(paint(31, `demo skipped: ${(err as Error).message}`)));
}

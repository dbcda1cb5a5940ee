import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { ADMIN_TOKEN, startTestApi, type TestApi } from '../../../test/support/api.js';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { createPortalTokens, portalSigningKey } from '../../api/src/portal/session-token.js';
import { embeddingPage, ensureDashboardBuilt, launchChromium, listen, type LocalServer } from './browser.js';

/**
 * The dashboard in Debian's Chromium against a real API, worker and receiver: the user tasks
 * of issue 17, end to end. Screenshots of the main pages land in docs/screenshots/.
 */

// The README shows docs/screenshots/; a plain test run writes elsewhere so it leaves the tree clean
// (UPDATE_SCREENSHOTS=1 npm test -- apps/dashboard refreshes the committed ones).
const SHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))
    : `${join(tmpdir(), 'hooklane-portal-screenshots')}/`;
const TEAM = 41;
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 360, height: 780 };

let api: TestApi;
let worker: TestWorker;
let browser: Browser;
let apiServer: LocalServer;
let receiver: LocalServer;
let allowedEmbedder: LocalServer;
let refusedEmbedder: LocalServer;
let embedUrl = '';
let teamKey = '';
let flakyStatus = 500;
let downStatus = 500;
/** Every URL and Referer the API saw, to prove the session token never reached it. */
const seenByApi: string[] = [];
const received: Array<{ path: string; body: string }> = [];
const state = { webhookId: '', flakyId: '' };

async function admin(method: 'get' | 'post', path: string, body?: object) {
  const res = await request(api.app)[method](path).set(api.admin).send(body);
  expect(res.status).toBeLessThan(300);
  return res.body;
}

async function portalSession(body: object = {}): Promise<{ token: string; url: string }> {
  const res = await request(apiServer.server).post('/v1/portal-sessions').set(api.admin).send({ team_id: TEAM, ...body });
  expect(res.status).toBe(201);
  return res.body;
}

async function open(url: string, viewport = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}

/** Polls `check` (clicking Refresh between tries) until it passes or 20 s go by. */
async function until(page: Page, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (await check()) return;
    await page.getByRole('button', { name: 'Refresh' }).first().click();
    await page.waitForTimeout(500);
  }
  throw new Error('condition not met within 20 s');
}

beforeAll(async () => {
  ensureDashboardBuilt();
  mkdirSync(SHOTS, { recursive: true });
  const embed = (_req: unknown, res: import('node:http').ServerResponse) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(embeddingPage(embedUrl));
  allowedEmbedder = await listen(embed);
  refusedEmbedder = await listen(embed);
  api = await startTestApi('portalui', { PORTAL_FRAME_ANCESTORS: `'self' ${allowedEmbedder.origin}` });
  apiServer = await listen((req, res) => {
    seenByApi.push(`${req.url ?? ''} ${req.headers.referer ?? ''}`);
    api.app(req, res);
  });
  worker = await startTestWorker({ databaseUrl: api.database.url, prefix: api.prefix });
  receiver = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString() });
      const status = req.url === '/flaky' ? flakyStatus : req.url === '/down' ? downStatus : 200;
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 200 ? `thanks from ${req.url}` : 'receiver says nope');
    });
  });
  teamKey = (await admin('post', '/v1/api-keys', { team_id: TEAM })).key;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await worker?.close();
  for (const s of [apiServer, receiver, allowedEmbedder, refusedEmbedder]) await s?.close();
  await api?.close();
});

describe('the dashboard in a browser', () => {
  it('signs in with a team key, by keyboard alone', async () => {
    const page = await open(`${apiServer.origin}/portal`);
    await page.getByLabel('Team key').focus();
    await page.keyboard.type(teamKey);
    await page.keyboard.press('Tab');
    await page.keyboard.type(String(TEAM));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await page.getByText('No webhooks yet.').waitFor();
    // The focused control is visibly outlined.
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    expect(outline).toBe('solid');
    await page.context().close();
  });

  it('creates a webhook through the form; the API error shows next to the field it names', async () => {
    const page = await open(`${apiServer.origin}/portal`);
    await page.getByLabel('Team key').fill(teamKey);
    await page.getByLabel('Team id').fill(String(TEAM));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Create webhook' }).click();
    for (const label of ['url', 'events', 'project_id', 'headers', 'secret', 'retries_count', 'retries_delay', 'retry_backoff',
      'follow_redirect', 'reject_unauthorized', 'timeout', 'content_type', 'description', 'is_active', 'rate_limit', 'ordering']) {
      expect({ label, count: await page.getByLabel(label, { exact: true }).count() }).toEqual({ label, count: 1 });
    }
    expect(await page.getByLabel('ordering', { exact: true }).inputValue()).toBe('none');
    // Event types come from the catalog, each with its description.
    const option = page.getByLabel('events', { exact: true }).locator('option[value="labeling_job.completed"]');
    expect(await option.textContent()).toBe('labeling_job.completed — A labeling job was completed (Supervisely).');
    await page.getByLabel('url', { exact: true }).fill(`${receiver.origin}/ok`);
    await page.getByLabel('events', { exact: true }).selectOption(['create:task', 'labeling_job.completed']);
    await page.getByLabel('headers', { exact: true }).fill('X-Team: annotators');
    await page.getByLabel('retries_count', { exact: true }).fill('99');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const fieldError = page.locator('[data-error-for="retries_count"]');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toMatch(/20/);
    await expect(page.getByLabel('retries_count', { exact: true }).getAttribute('aria-invalid')).resolves.toBe('true');
    // Focus went to the field the API named.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-retries_count');
    await shot(page, 'form-error-desktop');

    await page.getByLabel('retries_count', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: 'Webhook created' }).waitFor();
    const secret = await page.getByTestId('created-secret').textContent();
    expect(secret).toMatch(/^whsec_/);
    const list = await admin('get', `/v1/webhooks?team_id=${TEAM}`);
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ url: `${receiver.origin}/ok`, retries_count: 2, headers: { 'X-Team': 'annotators' }, ordering: 'none' });
    expect(list.data[0].events.sort()).toEqual(['create:task', 'labeling_job.completed']);
    state.webhookId = list.data[0].id;
    await page.context().close();
  });

  it('shows ordering on the webhook page and changes it through the edit form', async () => {
    // Its own webhook, subscribed to a type no test emits, so the other tests' deliveries are unaffected.
    const hook = await admin('post', '/v1/webhooks', { team_id: TEAM, url: `${receiver.origin}/ordered`, events: ['label.deleted'] });
    const { url } = await portalSession();
    const page = await open(url);
    await page.getByRole('link', { name: `${receiver.origin}/ordered` }).click();
    const settings = page.locator('dl.settings');
    await settings.waitFor();
    expect(await settings.textContent()).toMatch(/ordering\s*none/);
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    const ordering = page.getByLabel('ordering', { exact: true });
    await ordering.waitFor();
    expect(await ordering.inputValue()).toBe('none');
    await ordering.selectOption('fifo');
    await page.getByRole('button', { name: 'Save' }).click();
    await until(page, async () => /ordering\s*fifo/.test((await settings.textContent()) ?? ''));
    expect((await admin('get', `/v1/webhooks/${hook.id}`)).ordering).toBe('fifo');
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await ordering.waitFor();
    expect(await ordering.inputValue()).toBe('fifo');
    await page.context().close();
  });

  it('sends a test ping with a payload and shows the receiver answer; rotates the secret', async () => {
    const { url } = await portalSession();
    const page = await open(url);
    await page.getByRole('link', { name: `${receiver.origin}/ok` }).click();
    await page.getByLabel('payload', { exact: true }).fill('{"hello": "portal"}');
    await page.getByRole('button', { name: 'Send test' }).click();
    const result = page.getByTestId('test-result');
    await result.waitFor({ timeout: 20_000 });
    expect(await result.textContent()).toContain('status_code: 200');
    expect(await result.textContent()).toContain('thanks from /ok');
    expect(JSON.parse(received.find((r) => r.path === '/ok')?.body ?? '{}')).toMatchObject({ event: 'ping', data: { hello: 'portal' } });
    await shot(page, 'webhook-desktop');

    await page.getByRole('button', { name: 'Reveal secret' }).click();
    const before = await page.getByTestId('secret').textContent();
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByText('Secret rotated').waitFor();
    const after = await page.getByTestId('secret').textContent();
    expect(after).not.toBe(before);
    expect((await admin('get', `/v1/webhooks/${state.webhookId}/secret`)).secret).toBe(after);
    await page.context().close();
  });

  it("shows a failed delivery's attempt log, redelivers it and sees it succeed", async () => {
    const hook = await admin('post', '/v1/webhooks', { team_id: TEAM, url: `${receiver.origin}/flaky`, events: ['create:task'], retries_count: 0 });
    state.flakyId = hook.id;
    await admin('post', '/v1/events', { event: 'create:task', team_id: TEAM, data: { task: { id: 3 } } });
    const { url } = await portalSession();
    const page = await open(url);
    await page.getByRole('link', { name: `${receiver.origin}/flaky` }).click();
    await page.getByLabel('status', { exact: true }).selectOption('failed');
    await until(page, async () => (await page.getByRole('link', { name: /^dlv_/ }).count()) > 0);
    await page.getByRole('link', { name: /^dlv_/ }).first().click();
    const attempt = page.getByTestId('attempt').first();
    await attempt.waitFor();
    expect(await attempt.textContent()).toContain('500');
    expect(await attempt.textContent()).toContain('receiver says nope');
    await shot(page, 'delivery-desktop');

    flakyStatus = 200;
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.waitForURL(/#\/deliveries\/dlv_/);
    await until(page, async () => (await page.getByTestId('delivery-status').textContent()) === 'succeeded');
    expect(await page.getByTestId('attempt').first().textContent()).toContain('200');
    await page.context().close();
  });

  it('filters the list by is_active, and deletes a webhook only after its confirmation', async () => {
    const spare = await admin('post', '/v1/webhooks', { team_id: TEAM, url: `${receiver.origin}/spare`, events: ['label.updated'], is_active: false });
    const { url } = await portalSession();
    const page = await open(url);
    const spareLink = page.getByRole('link', { name: `${receiver.origin}/spare` });
    const okLink = page.getByRole('link', { name: `${receiver.origin}/ok` });
    await okLink.waitFor();
    await page.getByLabel('is_active', { exact: true }).selectOption('false');
    await page.getByRole('button', { name: 'Filter' }).click();
    await okLink.waitFor({ state: 'detached' });
    expect(await spareLink.count()).toBe(1);
    expect(await page.getByRole('listitem').filter({ has: spareLink }).textContent()).toContain('inactive');

    await spareLink.click();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Delete this webhook?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await request(api.app).get(`/v1/webhooks/${spare.id}`).set(api.admin)).status).toBe(200);

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await okLink.waitFor();
    expect(await spareLink.count()).toBe(0);
    expect((await request(api.app).get(`/v1/webhooks/${spare.id}`).set(api.admin)).status).toBe(404);
    await page.context().close();
  });

  it("pages through a webhook's deliveries and recovers its failed ones since a time", async () => {
    const hook = await admin('post', '/v1/webhooks', { team_id: TEAM, url: `${receiver.origin}/down`, events: ['delete:task'], retries_count: 0 });
    const events = Array.from({ length: 21 }, (_, i) => ({ event: 'delete:task', team_id: TEAM, data: { task: { id: 100 + i } } }));
    await admin('post', '/v1/events/batch', { events });
    const { url } = await portalSession();
    const page = await open(url);
    await page.getByRole('link', { name: `${receiver.origin}/down` }).click();
    await page.getByLabel('status', { exact: true }).selectOption('failed');
    const rows = page.getByRole('link', { name: /^dlv_/ });
    const next = page.getByRole('button', { name: 'Next page' }).last();
    // 21 failed deliveries: a first page of 20, a second of 1, and back.
    await until(page, async () => (await rows.count()) === 20 && (await next.isEnabled()));
    const first = await rows.allTextContents();
    await next.click();
    await until(page, async () => (await rows.count()) === 1);
    expect(first).not.toContain(await rows.first().textContent());
    await page.getByRole('button', { name: 'Previous page' }).last().click();
    await until(page, async () => (await rows.count()) === 20);

    downStatus = 200;
    // since: an hour ago in the browser's local time (datetime-local), before every one of them.
    const hourAgo = await page.evaluate(() => {
      const d = new Date(Date.now() - 3600_000);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    });
    await page.getByLabel('since', { exact: true }).fill(hourAgo);
    await page.getByRole('button', { name: 'Recover', exact: true }).click();
    expect(await page.getByTestId('recover-result').textContent()).toBe('21 deliveries queued again.');
    await until(page, async () => received.filter((r) => r.path === '/down').length >= 42);
    const succeeded = (await admin('get', `/v1/webhooks/${hook.id}/deliveries?status=succeeded&limit=50`)).data;
    expect(succeeded.length).toBeGreaterThanOrEqual(21);
    await page.context().close();
  });

  it('opens on a portal session from the URL fragment: token out of the address bar and the server, expiry shown', async () => {
    const { url, token } = await portalSession({ expires_in: 1800 });
    expect(url).toBe(`${apiServer.origin}/portal#token=${token}`);
    const page = await open(url);
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    expect(page.url()).not.toContain(token);
    expect(await page.locator('.who').textContent()).toMatch(/session ends .*\(in (29|30) min\)/);
    await shot(page, 'list-desktop');
    await page.getByRole('link', { name: `${receiver.origin}/ok` }).click();
    await page.getByRole('heading', { name: 'Deliveries', exact: true }).waitFor();
    expect(seenByApi.filter((line) => line.includes(token))).toEqual([]);
    await page.context().close();
  });

  it('signs out when the session ends', async () => {
    const tokens = createPortalTokens(portalSigningKey(undefined, ADMIN_TOKEN));
    const token = tokens.sign({ teamId: TEAM, projectId: null, readOnly: false, expiresAt: Math.floor(Date.now() / 1000) + 3 });
    const page = await open(`${apiServer.origin}/portal#token=${token}`);
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await page.getByText('Your session expired').waitFor({ timeout: 10_000 });
    await expect(page.getByLabel('Team key').isVisible()).resolves.toBe(true);
    await page.context().close();
  });

  it('a read-only session shows no write controls', async () => {
    // Its own webhook with one delivery, so this test also runs alone (-t read-only).
    await admin('post', '/v1/webhooks', { team_id: TEAM, url: `${receiver.origin}/readonly`, events: ['create:project'] });
    await admin('post', '/v1/events', { event: 'create:project', team_id: TEAM, data: { project: { id: 5 } } });
    const { url } = await portalSession({ read_only: true });
    const page = await open(url);
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    expect(await page.locator('.who').textContent()).toContain('read only');
    const writes = ['Create webhook', 'Edit', 'Delete', 'Rotate secret', 'Send test', 'Recover', 'Redeliver', 'Save'];
    const visibleWrites = async () => {
      const found: string[] = [];
      for (const name of writes) if ((await page.getByRole('button', { name, exact: true }).or(page.getByRole('link', { name, exact: true })).count()) > 0) found.push(name);
      return found;
    };
    expect(await visibleWrites()).toEqual([]);
    await page.getByRole('link', { name: `${receiver.origin}/readonly` }).click();
    await page.getByRole('heading', { name: 'Deliveries', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Reveal secret' }).waitFor();
    expect(await visibleWrites()).toEqual([]);
    await until(page, async () => (await page.getByRole('link', { name: /^dlv_/ }).count()) > 0);
    await page.getByRole('link', { name: /^dlv_/ }).first().click();
    await page.getByRole('heading', { name: 'Attempt log' }).waitFor();
    expect(await visibleWrites()).toEqual([]);
    // The form's address typed in by hand: no form, no submit button.
    await page.goto(`${apiServer.origin}/portal#/webhooks/new`);
    await page.getByText('This session is read only.').waitFor();
    expect(await visibleWrites()).toEqual([]);
    await page.context().close();
  });

  it('can be embedded by an allowed origin and is refused in a frame of another', async () => {
    embedUrl = (await portalSession()).url;
    const allowed = await open(allowedEmbedder.origin);
    const frame = allowed.frameLocator('#portal');
    await frame.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await shot(allowed, 'embedded-desktop');

    const context = await browser.newContext({ viewport: DESKTOP });
    const refused = await context.newPage();
    const blocked = new Promise<string>((resolve) => {
      refused.on('console', (msg) => {
        if (/frame-ancestors/.test(msg.text())) resolve(msg.text());
      });
    });
    await refused.goto(refusedEmbedder.origin);
    // Chromium reports the refusal on the console, naming the directive that refused it.
    const noRefusal = new Promise<string>((resolve) => setTimeout(() => resolve('no frame-ancestors refusal within 10 s'), 10_000).unref());
    expect(await Promise.race([blocked, noRefusal])).toContain(`frame-ancestors 'self' ${allowedEmbedder.origin}". The request has been blocked`);
    expect(await refused.frameLocator('#portal').getByRole('heading', { name: 'Webhooks' }).count()).toBe(0);
    await allowed.context().close();
    await refused.context().close();
  });

  it('works at 360 px: the main pages fit the width', async () => {
    const { url } = await portalSession();
    const page = await open(url, PHONE);
    const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    expect(await fits()).toBe(true);
    await shot(page, 'list-mobile');
    await page.getByRole('link', { name: `${receiver.origin}/flaky` }).click();
    await page.getByRole('heading', { name: 'Deliveries', exact: true }).waitFor();
    expect(await fits()).toBe(true);
    await shot(page, 'webhook-mobile');
    await page.getByRole('link', { name: /^dlv_/ }).first().click();
    await page.getByRole('heading', { name: 'Attempt log' }).waitFor();
    expect(await fits()).toBe(true);
    await shot(page, 'delivery-mobile');
    await page.goto(`${apiServer.origin}/portal#/webhooks/new`);
    await page.getByRole('button', { name: 'Create webhook' }).waitFor();
    expect(await fits()).toBe(true);
    await shot(page, 'form-mobile');
    await page.context().close();
  });
});

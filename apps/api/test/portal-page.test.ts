import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';
import { createApp } from '../src/app.js';

/** GET /portal: the built dashboard from the API process, with the headers a page holding a token needs. */

let api: TestApi;
let built: string;
let empty: string;

beforeAll(async () => {
  built = mkdtempSync(join(tmpdir(), 'portal-built-'));
  mkdirSync(join(built, 'assets'));
  writeFileSync(join(built, 'index.html'), '<!doctype html><title>Hooklane webhooks</title><script type="module" src="/portal/assets/app-1.js"></script>');
  writeFileSync(join(built, 'assets', 'app-1.js'), 'console.log("portal")');
  empty = mkdtempSync(join(tmpdir(), 'portal-empty-'));
  api = await startTestApi('portalpage', { PORTAL_ASSETS_DIR: built, PORTAL_FRAME_ANCESTORS: "'self' https://platform.example.com" });
});

afterAll(async () => {
  await api?.close();
  rmSync(built, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

function expectPortalHeaders(headers: Record<string, string>, ancestors: string) {
  expect(headers['content-security-policy']).toContain(`frame-ancestors ${ancestors}`);
  expect(headers['content-security-policy']).toContain("script-src 'self'");
  expect(headers['content-security-policy']).toContain("connect-src 'self'");
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-content-type-options']).toBe('nosniff');
}

describe('GET /portal', () => {
  it('serves the dashboard HTML, uncached, with CSP (frame-ancestors from PORTAL_FRAME_ANCESTORS), no-referrer and nosniff', async () => {
    for (const path of ['/portal', '/portal/']) {
      const res = await request(api.app).get(path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('Hooklane webhooks');
      expect(res.headers['cache-control']).toBe('no-store');
      expectPortalHeaders(res.headers as Record<string, string>, "'self' https://platform.example.com");
    }
  });

  it('serves its assets under /portal/ with the same headers, and 404s unknown ones', async () => {
    const res = await request(api.app).get('/portal/assets/app-1.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expectPortalHeaders(res.headers as Record<string, string>, "'self' https://platform.example.com");
    expect((await request(api.app).get('/portal/assets/missing.js')).status).toBe(404);
    expect((await request(api.app).get('/portal/../package.json')).status).toBe(404);
  });

  it("defaults frame-ancestors to 'self'", async () => {
    const app = createApp({ ...api.deps, config: { ...api.deps.config, portalFrameAncestors: "'self'" } });
    const res = await request(app).get('/portal');
    expectPortalHeaders(res.headers as Record<string, string>, "'self'");
  });

  it('says how to build the dashboard when it was not built', async () => {
    const app = createApp({ ...api.deps, config: { ...api.deps.config, portalAssetsDir: empty } });
    const res = await request(app).get('/portal');
    expect(res.status).toBe(503);
    expect(res.text).toContain('The dashboard is not built');
    expect(res.text).toContain('npm run build');
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { Router, type Response } from 'express';

/**
 * Serves the built dashboard (apps/dashboard, `npm run build`) at /portal from this same
 * process, so there is no extra server to run. The page holds a bearer token, hence the
 * strict headers: scripts and connections only from here, no Referer, and framing only by
 * the origins in PORTAL_FRAME_ANCESTORS.
 */

/** apps/api/{src,dist}/portal -> apps/dashboard/dist, from the sources and the build alike. */
export function defaultAssetsDir(): string {
  return fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));
}

export function portalHeaders(frameAncestors: string): Record<string, string> {
  return {
    'Content-Security-Policy': [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      `frame-ancestors ${frameAncestors}`,
    ].join('; '),
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  };
}

export interface PortalPageOptions {
  assetsDir: string | undefined;
  frameAncestors: string;
}

export function portalPageRoutes({ assetsDir, frameAncestors }: PortalPageOptions): Router {
  const dir = assetsDir ?? defaultAssetsDir();
  const headers = portalHeaders(frameAncestors);
  const router = Router();
  const setHeaders = (res: Response) => res.set(headers);

  // Read on each request (a few KiB) so a build made while the API runs is picked up.
  router.get(['/portal', '/portal/', '/portal/index.html'], (_req, res) => {
    setHeaders(res);
    const index = `${dir}/index.html`;
    if (!existsSync(index)) {
      res
        .status(503)
        .type('text/plain')
        .send(`The dashboard is not built. Run "npm run build" (or "npm run build -w @hooklane/dashboard") and reload.\n`);
      return;
    }
    res.set('Cache-Control', 'no-store').type('html').send(readFileSync(index));
  });
  router.use(
    '/portal',
    express.static(dir, {
      index: false,
      fallthrough: true,
      immutable: true,
      maxAge: '1y',
      setHeaders: (res) => res.set(headers),
    }),
  );
  return router;
}

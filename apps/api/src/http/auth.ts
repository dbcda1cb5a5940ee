import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Db } from '@hooklane/db';
import type { ApiKeyCache } from './api-key-cache.js';
import { forbidden, unauthorized } from './errors.js';

/** Set on a portal session's auth (apps/api/src/portal): what the session may reach. */
export interface PortalScope {
  projectId: number | null;
  readOnly: boolean;
  /** Unix seconds. */
  expiresAt: number;
}

export type Auth = { kind: 'admin' } | { kind: 'team'; teamId: number; portal?: PortalScope };

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Compares digests rather than raw strings so that length and content both take constant time. */
export function tokensEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

export interface AuthDeps {
  db: Db;
  apiKeys: ApiKeyCache;
  adminToken: string | undefined;
  /** Portal session tokens: undefined when the token is not one, throws 401 when it is a bad one. */
  verifyPortalToken?: (token: string) => Auth | undefined;
}

async function loadKey(db: Db, keyHash: string): Promise<{ teamId: number; revoked: boolean } | null> {
  const key = await db.apiKey.findUnique({ where: { keyHash }, select: { teamId: true, keyHash: true, revokedAt: true } });
  if (!key || !tokensEqual(key.keyHash, keyHash)) return null;
  return { teamId: key.teamId, revoked: key.revokedAt !== null };
}

export function authenticate({ db, apiKeys, adminToken, verifyPortalToken }: AuthDeps): RequestHandler {
  return async (req, res, next) => {
    try {
      const header = req.get('authorization') ?? '';
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const token = match?.[1];
      if (!token || token.length > 512) throw unauthorized();
      if (adminToken && tokensEqual(token, adminToken)) {
        res.locals.auth = { kind: 'admin' } satisfies Auth;
        return next();
      }
      const session = verifyPortalToken?.(token);
      if (session) {
        res.locals.auth = session;
        return next();
      }
      const keyHash = hashApiKey(token);
      const key = await apiKeys.lookUp(keyHash, (hash) => loadKey(db, hash));
      if (!key || key.revoked) throw unauthorized();
      res.locals.auth = { kind: 'team', teamId: key.teamId } satisfies Auth;
      next();
    } catch (err) {
      next(err);
    }
  };
}

export function authOf(res: Response): Auth {
  return res.locals.auth as Auth;
}

export const requireAdmin: RequestHandler = (_req: Request, res, next) => {
  next(authOf(res).kind === 'admin' ? undefined : forbidden('This route needs the admin token'));
};

/** A team key may only name its own team; the admin may name any. */
export function assertTeamAllowed(auth: Auth, teamId: number): void {
  if (auth.kind === 'team' && auth.teamId !== teamId) throw forbidden('This key belongs to another team');
}

/** The team filter for reads: a team key is confined to its team, the admin sees all (or the one asked for). */
export function teamFilter(auth: Auth, requested?: number): number | undefined {
  if (auth.kind === 'team') {
    if (requested !== undefined && requested !== auth.teamId) throw forbidden('This key belongs to another team');
    return auth.teamId;
  }
  return requested;
}

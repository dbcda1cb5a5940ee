import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Db } from '@hooklane/db';
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
  adminToken: string | undefined;
  /** Portal session tokens: undefined when the token is not one, throws 401 when it is a bad one. */
  verifyPortalToken?: (token: string) => Auth | undefined;
}

/**
 * Team keys looked up in the last 30 s, per database client: a PostgreSQL round trip per
 * request was the largest single cost of ingest. Only keys that exist are kept (a key created
 * a moment ago must work at once). A revocation through this process clears the cache at once
 * (`forgetApiKeys`); one made through another API process is seen here within `API_KEY_CACHE_MS`.
 */
export const API_KEY_CACHE_MS = 30_000;
const API_KEY_CACHE_MAX = 10_000;

interface CachedKey {
  teamId: number;
  revoked: boolean;
  expiresAt: number;
}

interface KeyCache {
  entries: Map<string, CachedKey>;
  /** Bumped by every revocation, so a lookup that started before one does not store its answer. */
  generation: number;
}

const keyCaches = new WeakMap<Db, KeyCache>();

function keyCacheOf(db: Db): KeyCache {
  let cache = keyCaches.get(db);
  if (!cache) {
    cache = { entries: new Map(), generation: 0 };
    keyCaches.set(db, cache);
  }
  return cache;
}

/** Call after revoking a key, so this process refuses it from the next request on. */
export function forgetApiKeys(db: Db): void {
  const cache = keyCacheOf(db);
  cache.entries.clear();
  cache.generation += 1;
}

async function lookUpKey(db: Db, keyHash: string): Promise<CachedKey | null> {
  const cache = keyCacheOf(db);
  const cached = cache.entries.get(keyHash);
  if (cached && cached.expiresAt > Date.now()) return cached;
  const generation = cache.generation;
  const key = await db.apiKey.findUnique({ where: { keyHash }, select: { teamId: true, keyHash: true, revokedAt: true } });
  if (!key || !tokensEqual(key.keyHash, keyHash)) {
    cache.entries.delete(keyHash);
    return null;
  }
  const entry: CachedKey = { teamId: key.teamId, revoked: key.revokedAt !== null, expiresAt: Date.now() + API_KEY_CACHE_MS };
  if (cache.generation === generation) {
    if (cache.entries.size >= API_KEY_CACHE_MAX) cache.entries.clear();
    cache.entries.set(keyHash, entry);
  }
  return entry;
}

export function authenticate({ db, adminToken, verifyPortalToken }: AuthDeps): RequestHandler {
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
      const key = await lookUpKey(db, keyHash);
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

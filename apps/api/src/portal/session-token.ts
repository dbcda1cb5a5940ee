import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Auth } from '../http/auth.js';
import { unauthorized } from '../http/errors.js';

/**
 * Portal session tokens: `hlp_<base64url JSON claims>.<base64url HMAC-SHA256>`. Stateless, so
 * every API process accepts a token another one issued, and changing the key ends every
 * session at once. The claims are not secret (a user may read their own scope); only the
 * signature makes them trustworthy.
 */
export const PORTAL_TOKEN_PREFIX = 'hlp_';

export interface PortalClaims {
  teamId: number;
  projectId: number | null;
  readOnly: boolean;
  /** Unix seconds. */
  expiresAt: number;
}

interface WireClaims {
  v: 1;
  team: number;
  project: number | null;
  ro: boolean;
  exp: number;
  /** Random, so two sessions with the same scope and second differ. */
  jti: string;
}

export interface PortalTokens {
  /** False when neither PORTAL_SECRET nor ADMIN_TOKEN is set: nothing to sign with. */
  readonly enabled: boolean;
  sign(claims: PortalClaims): string;
  /** Undefined for a token that is not a portal token; throws 401 for a bad or expired one. */
  verify(token: string, now?: number): Auth | undefined;
}

/** The documented default: a key derived from the admin token, so one secret suffices. */
export function portalSigningKey(portalSecret: string | undefined, adminToken: string | undefined): Buffer | undefined {
  if (portalSecret) return Buffer.from(portalSecret, 'utf8');
  if (adminToken) return createHmac('sha256', adminToken).update('hooklane portal session key v1').digest();
  return undefined;
}

function isClaims(value: unknown): value is WireClaims {
  if (!value || typeof value !== 'object') return false;
  const c = value as Record<string, unknown>;
  return (
    c.v === 1 &&
    Number.isSafeInteger(c.team) &&
    (c.project === null || Number.isSafeInteger(c.project)) &&
    typeof c.ro === 'boolean' &&
    Number.isSafeInteger(c.exp)
  );
}

export function createPortalTokens(key: Buffer | undefined): PortalTokens {
  const mac = (body: string) => createHmac('sha256', key ?? Buffer.alloc(0)).update(body).digest();

  return {
    enabled: key !== undefined,
    sign(claims) {
      if (!key) throw new Error('portal sessions need PORTAL_SECRET or ADMIN_TOKEN');
      const wire: WireClaims = {
        v: 1,
        team: claims.teamId,
        project: claims.projectId,
        ro: claims.readOnly,
        exp: claims.expiresAt,
        jti: randomBytes(9).toString('base64url'),
      };
      const body = PORTAL_TOKEN_PREFIX + Buffer.from(JSON.stringify(wire)).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    verify(token, now = Date.now()) {
      if (!token.startsWith(PORTAL_TOKEN_PREFIX)) return undefined;
      const dot = token.lastIndexOf('.');
      if (!key || dot < 0) throw unauthorized('Invalid portal session');
      const body = token.slice(0, dot);
      const given = Buffer.from(token.slice(dot + 1), 'base64url');
      const expected = mac(body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw unauthorized('Invalid portal session');
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(body.slice(PORTAL_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
      } catch {
        throw unauthorized('Invalid portal session');
      }
      if (!isClaims(claims)) throw unauthorized('Invalid portal session');
      if (claims.exp * 1000 <= now) throw unauthorized('Portal session expired');
      return {
        kind: 'team',
        teamId: claims.team,
        portal: { projectId: claims.project, readOnly: claims.ro, expiresAt: claims.exp },
      };
    },
  };
}

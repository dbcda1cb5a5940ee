/**
 * Who the dashboard acts as: a team key typed in, or a portal session handed over in the URL
 * fragment (#token=...). A fragment never reaches a server, so the token stays out of access
 * logs and of any Referer; it is removed from the address bar at once and kept in this tab's
 * sessionStorage only.
 */
export interface Session {
  token: string;
  kind: 'key' | 'portal';
  teamId: number;
  projectId: number | null;
  readOnly: boolean;
  /** Epoch ms, or null for a team key (no expiry). */
  expiresAt: number | null;
}

const STORAGE_KEY = 'hooklane.session';

/** Reads a portal token's claims (not verified here: the API does that on every call). */
export function sessionFromPortalToken(token: string): Session | null {
  if (!token.startsWith('hlp_')) return null;
  const body = token.slice(4, token.lastIndexOf('.'));
  try {
    const base64 = body.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))) as {
      team: number;
      project: number | null;
      ro: boolean;
      exp: number;
    };
    if (typeof claims.team !== 'number' || typeof claims.exp !== 'number') return null;
    return { token, kind: 'portal', teamId: claims.team, projectId: claims.project ?? null, readOnly: claims.ro === true, expiresAt: claims.exp * 1000 };
  } catch {
    return null;
  }
}

export function takeTokenFromFragment(): Session | null {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match?.[1]) return null;
  history.replaceState(null, '', window.location.pathname + window.location.search + '#/');
  return sessionFromPortalToken(decodeURIComponent(match[1]));
}

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  try {
    if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage can be off in a third-party iframe; the session then lasts until reload.
  }
}

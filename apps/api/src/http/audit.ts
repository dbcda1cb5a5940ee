import type { Logger } from 'pino';
import type { Auth } from './auth.js';

/**
 * Audit log lines for the actions that hand out or change credentials. Each is one JSON
 * line with `audit` set to the action, who did it and the ids involved, never a key, secret
 * or header value, so the log can be shipped anywhere.
 */
export type AuditAction = 'api_key.created' | 'api_key.revoked' | 'webhook.secret_revealed' | 'webhook.secret_rotated';

export interface AuditIds {
  key_id?: string;
  webhook_id?: string;
  team_id?: number;
  /** How it came about when not through its own route: a rotation by PATCH, a revocation by erasing the team. */
  via?: 'patch' | 'team_erasure';
}

export function audit(logger: Logger, action: AuditAction, auth: Auth, ids: AuditIds): void {
  logger.info(
    { audit: action, actor: auth.kind, ...(auth.kind === 'team' ? { actor_team_id: auth.teamId } : {}), ...ids },
    `audit: ${action}`,
  );
}

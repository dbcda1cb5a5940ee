import { isId } from '@hooklane/core';
import type { Db, Webhook } from '@hooklane/db';
import type { Auth } from '../http/auth.js';
import { notFound } from '../http/errors.js';

/**
 * The live webhook `id` as this caller may see it. Missing, deleted, malformed and
 * another team's ids all get the same 404, so a team key cannot probe for others' ids.
 */
export async function findWebhookForAuth(db: Db, auth: Auth, id: string): Promise<Webhook> {
  if (!isId('wh', id)) throw notFound('Webhook');
  const row = await db.webhook.findFirst({
    where: { id, deletedAt: null, ...(auth.kind === 'team' ? { teamId: auth.teamId } : {}) },
  });
  if (!row) throw notFound('Webhook');
  return row;
}

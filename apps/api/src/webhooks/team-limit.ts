import type { Db, Prisma, Webhook } from '@hooklane/db';
import { HttpError } from '../http/errors.js';

// Namespace of the advisory locks taken per team while creating a webhook (any constant
// other code does not use; two-integer form so the team id is the second key).
const CREATE_LOCK_NAMESPACE = 0x77686c6d; // "whlm"

export const limitExceeded = (max: number) =>
  new HttpError(409, 'limit_exceeded', `A team may have at most ${max} webhooks (MAX_WEBHOOKS_PER_TEAM); delete one first`);

/**
 * Creates a webhook unless its team already has `max` (deleted ones do not count). One team's
 * creates are serialised by a transaction-scoped advisory lock, so concurrent requests
 * cannot each see room for one more; other teams never wait on it.
 */
export async function createWithinTeamLimit(db: Db, data: Prisma.WebhookCreateInput, max: number): Promise<Webhook> {
  const teamId = data.teamId;
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CREATE_LOCK_NAMESPACE}::int, ${teamId}::int)`;
    const count = await tx.webhook.count({ where: { teamId, deletedAt: null } });
    if (count >= max) throw limitExceeded(max);
    return tx.webhook.create({ data });
  });
}

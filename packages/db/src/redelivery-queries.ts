import type { Db } from './client.js';
import type { Delivery } from './generated/prisma/client.js';
import { createDeliveries } from './outbox.js';

export interface RecoverInput {
  webhookId: string;
  teamId: number;
  since: Date;
  now: Date;
}

/**
 * Makes one new pending delivery for every event whose delivery to this webhook failed
 * since `since`, and returns them oldest event first so the receiver hears them in order.
 * Events already back on their way (a pending delivery) or delivered since (a success)
 * are skipped, and several failed deliveries of one event give a single new one, so
 * calling recover twice does not send everything twice. Test pings are never recovered.
 * The webhook row is locked for the duration, so two concurrent recovers cannot both
 * pick the same events. The caller queues them after the commit (the outbox's `enqueueCreated`).
 */
export async function recoverFailedDeliveries(db: Db, input: RecoverInput): Promise<Delivery[]> {
  const { webhookId, teamId, since, now } = input;
  return db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM webhooks WHERE id = ${webhookId} FOR UPDATE`;
    const candidates = await tx.$queryRaw<Array<{ event_id: string; event_type: string }>>`
      SELECT d.event_id, d.event_type
      FROM deliveries d
      WHERE d.webhook_id = ${webhookId}
        AND d.status = 'failed'
        AND NOT d.is_test
        AND d.created_at >= ${since}
        AND NOT EXISTS (
          SELECT 1 FROM deliveries o
          WHERE o.event_id = d.event_id AND o.webhook_id = d.webhook_id
            AND o.status IN ('pending', 'succeeded')
        )
      GROUP BY d.event_id, d.event_type
      ORDER BY min(d.created_at), d.event_id`;
    const rows = candidates.map((c) => ({ teamId, webhookId, eventId: c.event_id, eventType: c.event_type }));
    return createDeliveries(tx, rows, { now });
  });
}

import { isId } from '@hooklane/core';
import type { Db, Delivery, Event } from '@hooklane/db';
import type { Auth } from '../http/auth.js';
import { notFound } from '../http/errors.js';

export interface EventResponse {
  id: string;
  event: string;
  team_id: number;
  project_id: number | null;
  timestamp: string;
  data: unknown;
  sender: unknown;
  ordering_key: string | null;
  created_at: string;
  deliveries: Array<{ id: string; webhook_id: string; status: Delivery['status'] }>;
}

type EventWithDeliveries = Event & { deliveries: Array<Pick<Delivery, 'id' | 'webhookId' | 'status'>> };

/** The event as this caller may see it, with every delivery made for it (oldest first); 404 otherwise. */
export async function findEventForAuth(db: Db, auth: Auth, id: string): Promise<EventWithDeliveries> {
  if (!isId('evt', id)) throw notFound('Event');
  const row = await db.event.findFirst({
    where: { id, ...(auth.kind === 'team' ? { teamId: auth.teamId } : {}) },
    include: {
      deliveries: { select: { id: true, webhookId: true, status: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
    },
  });
  if (!row) throw notFound('Event');
  return row;
}

export function toEventResponse(row: EventWithDeliveries): EventResponse {
  return {
    id: row.id,
    event: row.type,
    team_id: row.teamId,
    project_id: row.projectId,
    timestamp: row.timestamp.toISOString(),
    data: row.data,
    sender: row.sender ?? null,
    ordering_key: row.orderingKey,
    created_at: row.createdAt.toISOString(),
    deliveries: row.deliveries.map((d) => ({ id: d.id, webhook_id: d.webhookId, status: d.status })),
  };
}

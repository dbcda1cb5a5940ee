import { newId } from '@hooklane/core';
import {
  claimLiveIdempotencyKeys,
  findSubscribedWebhookIds,
  insertEventsWithDeliveries,
  type IdempotencyKeyRef,
  type NewDeliveryRow,
  type NewEventRow,
} from '@hooklane/db';
import { enqueueFirstAttempts } from '../deliveries/enqueue.js';
import type { AppDeps } from '../deps.js';
import { conflict } from '../http/errors.js';
import type { PreparedEvent } from './prepare-event.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface IngestResult {
  eventId: string;
  deliveries: number;
  /** True when an idempotency key matched an earlier event and nothing new was made. */
  replayed: boolean;
}

type IngestDeps = Pick<AppDeps, 'db' | 'queue' | 'logger' | 'metrics'>;

interface FreshEvent {
  index: number;
  eventId: string;
  webhookIds: string[];
}

const keyOf = (teamId: number, key: string) => `${teamId}\n${key}`;

function keyRef(event: PreparedEvent): IdempotencyKeyRef {
  return { teamId: event.teamId, key: event.idempotencyKey ?? '' };
}

/**
 * Stores events and their fan-out, then queues the deliveries; one request of any size
 * costs the same few round trips. Results come back in input order. Idempotency keys are
 * settled by the unique (team_id, idempotency_key) index: an event that loses a race to a
 * concurrent twin is not stored, and the twin's reply is returned instead. Within one
 * request the first event with a key owns it and later ones repeat its reply.
 */
export async function ingestEvents(deps: IngestDeps, events: PreparedEvent[]): Promise<IngestResult[]> {
  const { db } = deps;
  const now = new Date();
  const results: Array<IngestResult | undefined> = new Array<IngestResult | undefined>(events.length);

  const owners: number[] = [];
  const repeats = new Map<number, number>();
  const ownerByKey = new Map<string, number>();
  events.forEach((event, index) => {
    const key = event.idempotencyKey === null ? undefined : keyOf(event.teamId, event.idempotencyKey);
    const owner = key === undefined ? undefined : ownerByKey.get(key);
    if (owner !== undefined) {
      repeats.set(index, owner);
      return;
    }
    if (key !== undefined) ownerByKey.set(key, index);
    owners.push(index);
  });
  const eventAt = (index: number) => events[index] as PreparedEvent;
  const keyed = owners.filter((index) => eventAt(index).idempotencyKey !== null);

  const [live, subscribed] = await Promise.all([
    claimLiveIdempotencyKeys(db, keyed.map((index) => keyRef(eventAt(index))), now),
    findSubscribedWebhookIds(db, owners.map(eventAt)),
  ]);
  const liveByKey = new Map(live.map((row) => [keyOf(row.teamId, row.key), row]));

  const fresh: FreshEvent[] = [];
  owners.forEach((index, n) => {
    const event = eventAt(index);
    const earlier = event.idempotencyKey === null ? undefined : liveByKey.get(keyOf(event.teamId, event.idempotencyKey));
    if (earlier) {
      results[index] = { eventId: earlier.eventId, deliveries: earlier.deliveries, replayed: true };
    } else {
      fresh.push({ index, eventId: newId('evt'), webhookIds: subscribed[n] ?? [] });
    }
  });

  const eventRows: NewEventRow[] = fresh.map(({ index, eventId }) => {
    const event = eventAt(index);
    return { id: eventId, ...event };
  });
  const deliveryRows: NewDeliveryRow[] = fresh.flatMap(({ index, eventId, webhookIds }) => {
    const event = eventAt(index);
    return webhookIds.map((webhookId) => ({
      id: newId('dlv'),
      teamId: event.teamId,
      webhookId,
      eventId,
      eventType: event.type,
    }));
  });
  const stored = await insertEventsWithDeliveries(db, {
    now,
    idempotencyTtlMs: IDEMPOTENCY_TTL_MS,
    events: eventRows,
    deliveries: deliveryRows,
  });

  const lostRaces: number[] = [];
  for (const { index, eventId, webhookIds } of fresh) {
    if (stored.has(eventId)) results[index] = { eventId, deliveries: webhookIds.length, replayed: false };
    else lostRaces.push(index);
  }
  if (lostRaces.length > 0) {
    const winners = await claimLiveIdempotencyKeys(db, lostRaces.map((index) => keyRef(eventAt(index))), now);
    const winnerByKey = new Map(winners.map((row) => [keyOf(row.teamId, row.key), row]));
    for (const index of lostRaces) {
      const event = eventAt(index);
      const winner = winnerByKey.get(keyOf(event.teamId, event.idempotencyKey ?? ''));
      // Only when the winner's key expired in the instant between the two statements.
      if (!winner) throw conflict('A request with the same Idempotency-Key was being processed; try again');
      results[index] = { eventId: winner.eventId, deliveries: winner.deliveries, replayed: true };
    }
  }
  for (const [index, owner] of repeats) {
    const first = results[owner];
    if (first) results[index] = { ...first, replayed: true };
  }

  const newDeliveryIds = deliveryRows.filter((row) => stored.has(row.eventId)).map((row) => row.id);
  for (const row of eventRows) if (stored.has(row.id)) deps.metrics.eventsReceived.inc({ event: row.type });
  if (newDeliveryIds.length > 0) deps.metrics.deliveriesCreated.inc(newDeliveryIds.length);
  await enqueueFirstAttempts(deps, newDeliveryIds);

  return results.map((result) => {
    if (!result) throw new Error('ingest left an event without a result');
    return result;
  });
}

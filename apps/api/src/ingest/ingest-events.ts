import { newId } from '@hooklane/core';
import {
  claimLiveIdempotencyKeys,
  Coalescer,
  enqueueCreated,
  insertEventsWithFanOut,
  type IdempotencyKeyRef,
  type NewEventRow,
} from '@hooklane/db';
import type { AppDeps } from '../deps.js';
import { conflict, isUnavailableError, type HttpError } from '../http/errors.js';
import type { PreparedEvent } from './prepare-event.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface IngestResult {
  eventId: string;
  deliveries: number;
  /** True when an idempotency key matched an earlier event and nothing new was made. */
  replayed: boolean;
}

type IngestDeps = Pick<AppDeps, 'db' | 'outbox' | 'logger' | 'metrics'>;

interface FreshEvent {
  index: number;
  eventId: string;
}

const keyOf = (teamId: number, key: string) => `${teamId}\n${key}`;

function keyRef(event: PreparedEvent): IdempotencyKeyRef {
  return { teamId: event.teamId, key: event.idempotencyKey ?? '' };
}

/**
 * Concurrent requests are stored together: while `MAX_IN_FLIGHT` ingests run, new ones
 * queue up and leave as one statement and one queue write, as if they were one batch (so
 * a key used by two of them is settled exactly as within one batch). A lone request goes
 * out on the next turn of the event loop. Each request still gets only its own results.
 * A failure of the shared statement because PostgreSQL is unreachable is each request's
 * failure; any other failure is retried request by request, so only its cause fails.
 */
const MAX_REQUESTS_PER_INGEST = 64;
const MAX_IN_FLIGHT = 3;

type IngestOutcome = IngestResult | HttpError | Error;

/**
 * Stores events and their fan-out, then queues the deliveries; one ingest of any size costs
 * one statement (with idempotency keys one more to claim them, and one after a lost race).
 * Results come back in input order. Idempotency keys are settled by the unique
 * (team_id, idempotency_key) index: an event that loses a race to a concurrent twin is not
 * stored, and the twin's reply is returned instead. Within one
 * request the first event with a key owns it and later ones repeat its reply.
 */
export type EventIngest = (events: PreparedEvent[]) => Promise<IngestResult[]>;

/** Built once per process (main.ts, test setup) and passed in deps as `ingest`. */
export function createEventIngest(deps: IngestDeps): EventIngest {
  const coalescer = new Coalescer<PreparedEvent[], IngestOutcome[]>({
    run: (requests) => ingestRequests(deps, requests),
    maxBatch: MAX_REQUESTS_PER_INGEST,
    maxInFlight: MAX_IN_FLIGHT,
  });
  return async (events) => {
    if (events.length === 0) return [];
    const outcomes = await coalescer.add(events);
    return outcomes.map((outcome) => {
      if (outcome instanceof Error) throw outcome;
      return outcome;
    });
  };
}

async function ingestRequests(deps: IngestDeps, requests: PreparedEvent[][]): Promise<IngestOutcome[][]> {
  try {
    const outcomes = await ingestTogether(deps, requests.flat());
    let start = 0;
    return requests.map((events) => outcomes.slice(start, (start += events.length)));
  } catch (err) {
    if (requests.length === 1 || isUnavailableError(err)) throw err;
    deps.logger.warn({ err: { message: err instanceof Error ? err.message : String(err) }, requests: requests.length }, 'coalesced ingest failed; retrying its requests one by one');
    return Promise.all(
      requests.map((events) =>
        ingestTogether(deps, events).catch((alone: unknown) => {
          const failure = alone instanceof Error ? alone : new Error(String(alone));
          return events.map(() => failure);
        }),
      ),
    );
  }
}

// Over 60 lines: the batch's idempotency bookkeeping (repeats, live keys, replays) shares one results array.
async function ingestTogether(deps: IngestDeps, events: PreparedEvent[]): Promise<IngestOutcome[]> {
  const { db } = deps;
  const now = new Date();
  const results: Array<IngestOutcome | undefined> = new Array<IngestOutcome | undefined>(events.length);

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

  // Without keys this is no query at all; the fan-out happens inside the insert.
  const live = await claimLiveIdempotencyKeys(db, keyed.map((index) => keyRef(eventAt(index))), now);
  const liveByKey = new Map(live.map((row) => [keyOf(row.teamId, row.key), row]));

  const fresh: FreshEvent[] = [];
  for (const index of owners) {
    const event = eventAt(index);
    const earlier = event.idempotencyKey === null ? undefined : liveByKey.get(keyOf(event.teamId, event.idempotencyKey));
    if (earlier) {
      results[index] = { eventId: earlier.eventId, deliveries: earlier.deliveries, replayed: true };
    } else {
      fresh.push({ index, eventId: newId('evt') });
    }
  }

  const eventRows: NewEventRow[] = fresh.map(({ index, eventId }) => {
    const event = eventAt(index);
    return { id: eventId, ...event };
  });
  const stored = await insertEventsWithFanOut(db, { now, idempotencyTtlMs: IDEMPOTENCY_TTL_MS, events: eventRows });
  const storedById = new Map(stored.map((row) => [row.eventId, row.deliveries]));

  const lostRaces: number[] = [];
  for (const { index, eventId } of fresh) {
    const deliveries = storedById.get(eventId);
    if (deliveries) results[index] = { eventId, deliveries: deliveries.length, replayed: false };
    else lostRaces.push(index);
  }
  if (lostRaces.length > 0) {
    const winners = await claimLiveIdempotencyKeys(db, lostRaces.map((index) => keyRef(eventAt(index))), now);
    const winnerByKey = new Map(winners.map((row) => [keyOf(row.teamId, row.key), row]));
    for (const index of lostRaces) {
      const event = eventAt(index);
      const winner = winnerByKey.get(keyOf(event.teamId, event.idempotencyKey ?? ''));
      // Only when the winner's key expired in the instant between the two statements; this
      // event's request alone is answered 409.
      results[index] = winner
        ? { eventId: winner.eventId, deliveries: winner.deliveries, replayed: true }
        : conflict('A request with the same Idempotency-Key was being processed; try again');
    }
  }
  for (const [index, owner] of repeats) {
    const first = results[owner];
    if (first) results[index] = first instanceof Error ? first : { ...first, replayed: true };
  }

  const newDeliveries = stored.flatMap((row) => row.deliveries);
  for (const row of eventRows) if (storedById.has(row.id)) deps.metrics.eventsReceived.inc({ event: row.type });
  if (newDeliveries.length > 0) deps.metrics.deliveriesCreated.inc(newDeliveries.length);
  await enqueueCreated(deps.outbox, deps.logger, newDeliveries);

  return results.map((result) => {
    if (!result) throw new Error('ingest left an event without a result');
    return result;
  });
}

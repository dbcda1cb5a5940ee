/**
 * Redis keys of the per-webhook delivery lines (see docs/delivery-path.md).
 *
 * Every key lives under a "key space": today the BullMQ queue's own base
 * (`<prefix>:deliveries`). A later change that splits the queue into partitions gives each
 * partition its own space with a Redis Cluster hash tag (`<prefix>:{p3}`), and every key
 * below follows it into that slot, so one script can touch a webhook's keys, the partition's
 * queue-level keys and BullMQ's keys of that partition together.
 */

export interface WebhookLineKeys {
  /** LIST of entries (`<deliveryId>:<attempt>`) waiting for a slot, oldest first. */
  line: string;
  /** ZSET of entries holding a slot (a lease), scored by when the lease lapses. */
  slots: string;
  /** SET of entries Redis holds for this webhook (in the line or under a lease): dedupe and sweeper check. */
  known: string;
  /** ZSET sliding log of attempt start times reserved under the webhook's rate_limit. */
  rate: string;
  /**
   * ZSET of entries whose HTTP exchange has ended and whose attempt is being recorded, scored
   * by lease expiry: their slot is already someone else's, but Redis still holds them (in
   * `known`) until the record is written, and a worker killed meanwhile gives them back.
   */
  settling: string;
}

export interface SpaceKeys {
  /** ZSET of webhook ids scored by the earliest moment one of their leases may lapse. */
  due: string;
  /** The in-flight cap the workers run with (MAX_IN_FLIGHT_PER_WEBHOOK), for producers. */
  cap: string;
  /** Present while Redis holds the lines; missing means data was lost (flush, empty restart). */
  epoch: string;
}

export function webhookLineKeys(space: string, webhookId: string): WebhookLineKeys {
  const base = `${space}:wh:${webhookId}`;
  return {
    line: `${base}:line`,
    slots: `${base}:slots`,
    known: `${base}:known`,
    rate: `${base}:rate`,
    settling: `${base}:settling`,
  };
}

export function spaceKeys(space: string): SpaceKeys {
  return { due: `${space}:line-due`, cap: `${space}:line-cap`, epoch: `${space}:line-epoch` };
}

/** A line entry names one attempt of one delivery. */
export function lineEntry(deliveryId: string, attempt: number): string {
  return `${deliveryId}:${attempt}`;
}

export function parseLineEntry(entry: string): { deliveryId: string; attempt: number } {
  const at = entry.lastIndexOf(':');
  return { deliveryId: entry.slice(0, at), attempt: Number(entry.slice(at + 1)) };
}

/** Lease length: a killed worker's deliveries go back to the head of their line after this (plus a reaper tick). */
export const LEASE_MS = 45_000;
/** MAX_IN_FLIGHT_PER_WEBHOOK's default, used by producers until a worker has published its own. */
export const DEFAULT_LINE_CAP = 10;

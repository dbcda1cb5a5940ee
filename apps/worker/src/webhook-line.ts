import {
  LEASE_MS,
  leasedJob,
  spaceKeys,
  webhookLineKeys,
  withLineCommands,
  type DeliveryQueue,
  type LineClient,
  type RedisClient,
} from '@hooklane/queue';

/**
 * The worker's side of the per-webhook lines (scripts in packages/queue/src/line-scripts.ts,
 * keys in docs/delivery-path.md). A delivery attempt runs only while it holds one of its
 * webhook's MAX_IN_FLIGHT_PER_WEBHOOK slots, under a lease that lapses if the worker dies;
 * the rest wait in the webhook's line, FIFO, and whoever frees a slot is handed the next.
 */

export interface StartAnswer {
  /** True: the slot is held, attempt now. False: the entry waits in the line (or is served from there). */
  go: boolean;
  /** Entries granted a slot meanwhile, to be queued as leased jobs. */
  granted: string[];
}

export interface WebhookLine {
  start(webhookId: string, entry: string, leased: boolean): Promise<StartAnswer>;
  /**
   * Frees the slot; returns the entries granted the freed slot(s), head of the line first.
   * `then`: entries of the same webhook to join the tail of its line first (woken fifo deliveries).
   */
  release(webhookId: string, entry: string, then?: readonly string[]): Promise<string[]>;
  /**
   * The attempt's HTTP exchange has ended: frees the slot now and returns the entries granted it,
   * as `release` does, while Redis keeps the entry (under a lease) until `release` after its
   * record is written. A slot is then held for the exchange, not for the database's write.
   */
  settle(webhookId: string, entry: string): Promise<string[]>;
  /** Frees the slot and puts the entry back at the head of the line, looked at again after `backoffMs`. */
  putBack(webhookId: string, entry: string, backoffMs: number): Promise<void>;
  /** Extends a lease for a long attempt (or a long record); false when it had lapsed. */
  renew(webhookId: string, entry: string): Promise<boolean>;
  /**
   * The earliest moment this attempt may start under `rateLimit` per second, reserved: ms to
   * wait. `confirm` after the wait moves the reservation to now, or reserves again if now no longer fits.
   */
  reserveStart(webhookId: string, entry: string, rateLimit: number, confirm?: boolean): Promise<number>;
  /** Queues granted entries as BullMQ jobs that already hold their slot. */
  queueGranted(webhookId: string, entries: string[]): Promise<void>;
  /** Webhooks whose leases may have lapsed by now, and the reclaim/grant pass over one. */
  dueWebhooks(limit: number): Promise<string[]>;
  pump(webhookId: string): Promise<string[]>;
  /** Tells producers the cap these workers enforce. */
  publishCap(): Promise<void>;
  /** For each entry, whether Redis holds it (in the line or under a lease). */
  holds(webhookId: string, entries: string[]): Promise<boolean[]>;
}

/** Sliding window of `rate_limit`, with a margin for the event-loop lag between the reserved and the actual start. */
export const RATE_WINDOW_MS = 1_050;

export interface WebhookLineOptions {
  /** Either mode's client; the keys below share the queue's hash tag, so one slot per script. */
  redis: RedisClient;
  queue: DeliveryQueue;
  /** MAX_IN_FLIGHT_PER_WEBHOOK. */
  cap: number;
  leaseMs?: number;
}

export function createWebhookLine(options: WebhookLineOptions): WebhookLine {
  const { queue, cap } = options;
  const client: LineClient = withLineCommands(options.redis);
  const leaseMs = options.leaseMs ?? LEASE_MS;
  const space = `${queue.opts.prefix ?? 'bull'}:${queue.name}`;
  const shared = spaceKeys(space);
  const keys = (webhookId: string) => {
    const k = webhookLineKeys(space, webhookId);
    return [k.line, k.slots, k.known, shared.due, k.settling, webhookId, leaseMs, cap] as const;
  };

  return {
    async start(webhookId, entry, leased) {
      const reply = (await client.hooklaneLineStart(...keys(webhookId), entry, leased ? '1' : '0')) as Array<number | string>;
      return { go: reply[0] === 1, granted: reply.slice(1).map(String) };
    },
    async release(webhookId, entry, then = []) {
      return (await client.hooklaneLineRelease(...keys(webhookId), entry, 'done', 0, ...then)) as string[];
    },
    async settle(webhookId, entry) {
      return (await client.hooklaneLineSettle(...keys(webhookId), entry)) as string[];
    },
    async putBack(webhookId, entry, backoffMs) {
      await client.hooklaneLineRelease(...keys(webhookId), entry, 'back', backoffMs);
    },
    async renew(webhookId, entry) {
      return (await client.hooklaneLineRenew(...keys(webhookId), entry)) === 1;
    },
    async reserveStart(webhookId, entry, rateLimit, confirm = false) {
      const key = webhookLineKeys(space, webhookId).rate;
      return Number(await client.hooklaneRateReserve(key, entry, rateLimit, RATE_WINDOW_MS, confirm ? '1' : '0'));
    },
    async queueGranted(webhookId, entries) {
      if (entries.length > 0) await queue.addBulk(entries.map((entry) => leasedJob(entry, webhookId)));
    },
    async dueWebhooks(limit) {
      return client.zrangebyscore(shared.due, '-inf', Date.now(), 'LIMIT', 0, limit);
    },
    async pump(webhookId) {
      return (await client.hooklaneLinePump(...keys(webhookId))) as string[];
    },
    async publishCap() {
      await client.set(shared.cap, cap);
    },
    async holds(webhookId, entries) {
      if (entries.length === 0) return [];
      const found = await client.smismember(webhookLineKeys(space, webhookId).known, ...entries);
      return found.map((f) => f === 1);
    },
  };
}

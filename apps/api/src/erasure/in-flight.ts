import {
  deliverJobId,
  groupByPartition,
  lineSpace,
  parseLineEntry,
  webhookLineKeys,
  type DeliveryQueue,
  type DeliveryQueues,
  type RedisClient,
} from '@hooklane/queue';

/**
 * "Nothing is sent after the answer" needs more than deleting rows: a worker that loaded a
 * delivery a moment before the erasure committed may still be about to send it. Workers
 * hold a lease per attempt in their webhook's line (apps/worker/src/webhook-line.ts: the
 * sorted set `slots` of packages/queue/src/line-keys.ts) from before the request until after
 * it, so the erasure waits for the leases held once it has committed to be given back.
 *
 * A lease granted when the delivery was queued, whose job no worker has fetched yet, is not
 * an attempt in flight: that job will load the delivery after the commit and find nothing.
 * Waiting for it would hold the answer for a whole lease (45 s) whenever no worker runs.
 */

export interface InFlightWait {
  redis: RedisClient;
  /** Every partition's queue: a webhook's line keys live in its partition's key space. */
  queues: DeliveryQueues;
  webhookIds: string[];
  /**
   * Time a worker may take from loading a delivery to taking its slot (one Redis call,
   * normally a millisecond); slots taken in that window are waited for too.
   */
  settleMs?: number;
  /** Longest wait: a webhook's longest attempt (60 s timeout) plus margin; a crashed holder's lease lapses in 45 s. */
  timeoutMs?: number;
  /** Injected so tests can count polls; defaults to a timer. */
  sleep?: (ms: number) => Promise<void>;
}

const POLL_MS = 25;
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

export async function waitForInFlightAttempts(options: InFlightWait): Promise<boolean> {
  const { redis, queues, webhookIds } = options;
  if (webhookIds.length === 0) return true;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + (options.timeoutMs ?? 65_000);
  await sleep(options.settleMs ?? 100);
  // Each slots key with its webhook's partition queue, grouped by partition: in cluster mode a
  // pipeline may only touch one node, and each partition's keys share one slot.
  const groups = [...groupByPartition(queues.layout, webhookIds, (id) => id).values()].map((ids) => {
    const queue = queues.forWebhook(ids[0]!);
    return { queue, keys: ids.map((id) => webhookLineKeys(lineSpace(queue), id).slots) };
  });
  const queueOfKey = new Map(groups.flatMap((g) => g.keys.map((key) => [key, g.queue] as const)));
  const held = async () => new Set((await Promise.all(groups.map((g) => heldLeases(redis, g.keys)))).flatMap((s) => [...s]));
  // Only the leases held now matter: attempts started later loaded the delivery after the
  // erasure committed and found nothing to send.
  let waiting = await startedOnly(queueOfKey, await held());
  while (waiting.size > 0) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
    const stillHeld = await held();
    waiting = new Set([...waiting].filter((lease) => stillHeld.has(lease)));
  }
  return true;
}

/** Leases as `<slots key> <entry>`; scores are expiry times, so a lapsed lease (crashed holder) no longer counts. */
async function heldLeases(redis: RedisClient, keys: string[]): Promise<Set<string>> {
  const pipeline = redis.pipeline();
  const now = Date.now();
  for (const key of keys) pipeline.zrangebyscore(key, now, '+inf');
  const results = (await pipeline.exec()) ?? [];
  const leases = new Set<string>();
  results.forEach(([err, value], i) => {
    if (err) throw err;
    for (const entry of value as string[]) leases.add(`${keys[i]} ${entry}`);
  });
  return leases;
}

/** Drops leases whose job still waits in BullMQ; a handed-off delivery has no job and counts as started. */
async function startedOnly(queueOfKey: Map<string, DeliveryQueue>, leases: Set<string>): Promise<Set<string>> {
  const started = new Set<string>();
  await Promise.all(
    [...leases].map(async (lease) => {
      const space = lease.indexOf(' ');
      const { deliveryId, attempt } = parseLineEntry(lease.slice(space + 1));
      const state = await queueOfKey.get(lease.slice(0, space))!.getJobState(deliverJobId(deliveryId, attempt));
      if (!NOT_STARTED.has(state)) started.add(lease);
    }),
  );
  return started;
}

import { webhookLineKeys } from '@hooklane/queue';
import type { Redis } from 'ioredis';

/**
 * "Nothing is sent after the answer" needs more than deleting rows: a worker that loaded a
 * delivery a moment before the erasure committed may still be about to send it. Workers
 * hold a lease per attempt in their webhook's line (apps/worker/src/webhook-line.ts: the
 * sorted set `slots` of packages/queue/src/line-keys.ts) from before the request until after
 * it, so the erasure waits for the slots held once it has committed to be given back.
 */

export interface InFlightWait {
  redis: Redis;
  /** The queue's key space (lineSpace(queue)), under which the line keys live. */
  space: string;
  webhookIds: string[];
  /**
   * Time a worker may take from loading a delivery to taking its slot (one Redis call,
   * normally a millisecond); slots taken in that window are waited for too.
   */
  settleMs?: number;
  /** Longest wait: a webhook's longest attempt (60 s timeout) plus margin; a crashed holder's slot lapses in 30 s. */
  timeoutMs?: number;
  /** Injected so tests can count polls; defaults to a timer. */
  sleep?: (ms: number) => Promise<void>;
}

const POLL_MS = 25;

export async function waitForInFlightAttempts(options: InFlightWait): Promise<boolean> {
  const { redis, space, webhookIds } = options;
  if (webhookIds.length === 0) return true;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + (options.timeoutMs ?? 65_000);
  await sleep(options.settleMs ?? 100);
  const keys = webhookIds.map((id) => webhookLineKeys(space, id).slots);
  // Only the slots held now matter: attempts admitted later loaded the delivery after the
  // erasure committed and found nothing to send.
  let waiting = await heldTokens(redis, keys);
  while (waiting.size > 0) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
    const held = await heldTokens(redis, keys);
    waiting = new Set([...waiting].filter((token) => held.has(token)));
  }
  return true;
}

async function heldTokens(redis: Redis, keys: string[]): Promise<Set<string>> {
  const pipeline = redis.pipeline();
  // Scores are expiry times; a lapsed slot (crashed holder) no longer counts.
  const now = Date.now();
  for (const key of keys) pipeline.zrangebyscore(key, now, '+inf');
  const results = (await pipeline.exec()) ?? [];
  const tokens = new Set<string>();
  results.forEach(([err, value], i) => {
    if (err) throw err;
    for (const token of value as string[]) tokens.add(`${keys[i]} ${token}`);
  });
  return tokens;
}

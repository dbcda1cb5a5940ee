import { expect } from '@jest/globals';
import { deliveryQueueName, partitionOfWebhook, type QueueLayout } from '@hooklane/queue';
import request from 'supertest';
import type { TestApi } from './api.js';

/**
 * Where the webhook line keys of a partitioned layout sit (QUEUE_PARTITIONS): keys are
 * `<prefix>:<queue name>:wh:<webhookId>:<line|slots|known|rate>`, and each webhook's must be in
 * the key space of its own partition's queue. Tests sample the keys while a run is under way
 * (they vanish once lines drain) and check both that every partition held work and that no
 * webhook's keys landed in another partition (a routing mistake would still deliver, through
 * the wrong partition, so only the keys show it).
 */

export interface WebhookKey {
  key: string;
  partition: number;
  webhookId: string;
}

/** Parses the webhook line keys of `layout`'s partitions among `keys`; other keys are left out. */
export function webhookKeys(keys: Iterable<string>, layout: QueueLayout): WebhookKey[] {
  const spaces = Array.from({ length: layout.queuePartitions }, (_, p) => `${layout.queuePrefix}:${deliveryQueueName(layout, p)}:wh:`);
  const found: WebhookKey[] = [];
  for (const key of keys) {
    const partition = spaces.findIndex((space) => key.startsWith(space));
    if (partition === -1) continue;
    const rest = key.slice(spaces[partition]!.length);
    found.push({ key, partition, webhookId: rest.slice(0, rest.lastIndexOf(':')) });
  }
  return found;
}

/** Keys of a webhook found in a partition other than the one it maps to. */
export function misplaced(keys: readonly WebhookKey[], layout: QueueLayout): string[] {
  return keys.filter((k) => partitionOfWebhook(layout, k.webhookId) !== k.partition).map((k) => k.key);
}

export interface KeySampler {
  /** Stops sampling; every key seen at least once. */
  stop(): Promise<Set<string>>;
}

/** Calls `scan` every `intervalMs` until stopped and collects what it returns. */
export function sampleKeys(scan: () => Promise<string[]>, intervalMs = 50): KeySampler {
  const seen = new Set<string>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const key of await scan().catch(() => [])) seen.add(key);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

/** Creates webhooks (to `origin`/hook/<n>) until every partition has at least two: ids are random, so the split is too. */
export async function webhooksOnEveryPartition(api: TestApi, team: number, origin: string): Promise<string[]> {
  const partitions = api.deps.config.queuePartitions;
  const hooks: string[] = [];
  const perPartition = () => Array.from({ length: partitions }, (_, p) => hooks.filter((h) => partitionOfWebhook(api.deps.config, h) === p).length);
  while (hooks.length < 8 || Math.min(...perPartition()) < 2) {
    const res = await request(api.app)
      .post('/v1/webhooks')
      .set(api.admin)
      .send({ team_id: team, url: `${origin}/hook/${hooks.length}`, events: ['*'], retries_count: 5, retries_delay: 1 });
    expect(res.status).toBe(201);
    hooks.push(res.body.id as string);
  }
  return hooks;
}

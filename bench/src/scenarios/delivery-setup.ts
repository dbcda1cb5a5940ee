import { insertWebhooks, seedEventsWithDeliveries, truncateAll, type SeededDelivery, type WebhookSpec } from '../database.js';
import { paddedData, type BenchContext } from '../context.js';
import { deletePrefix, openBenchQueue, randomQueuePrefix, type BenchRedisLayout } from '../queue.js';
import { note } from '../progress.js';

export const BENCH_TEAM = 1;
export const BENCH_EVENT = 'ping';

export interface DeliverySetup {
  prefix: string;
  webhookIds: string[];
  /** Webhook ids pointing at the receiver that never answers. */
  hangWebhookIds: Set<string>;
  deliveries: SeededDelivery[];
  cleanup(): Promise<void>;
}

/**
 * `events` events, each matching exactly one of `webhooks` webhooks (one per project id,
 * events spread round-robin), stored and enqueued as ingest leaves them, with no worker
 * running yet. The first `hangCount` webhooks point at the receiver that never answers.
 * With `keys`, event k carries `ordering_key` "key-<k mod keys>"; with `ordering: "fifo"` the
 * webhooks put their deliveries in those lines, and only each line's head is queued.
 * `redis`: another Redis than the run's (a cluster of the scenario's own, dropped after it).
 */
export async function prepareDeliveries(
  ctx: BenchContext,
  {
    events,
    webhooks,
    hangCount = 0,
    ordering = 'none',
    keys,
    redis,
  }: {
    events: number;
    webhooks: number;
    hangCount?: number;
    ordering?: 'none' | 'fifo';
    keys?: number;
    redis?: { url: string; layout: BenchRedisLayout };
  },
): Promise<DeliverySetup> {
  const { db, receiver, settings } = ctx;
  await truncateAll(db.pool);
  const prefix = randomQueuePrefix();
  const specs: WebhookSpec[] = Array.from({ length: webhooks }, (_, i) => ({
    teamId: BENCH_TEAM,
    projectId: i + 1,
    url: i < hangCount ? receiver.hangUrl : receiver.fastUrl,
    events: [BENCH_EVENT],
    timeoutSeconds: i < hangCount ? settings.hangTimeoutSeconds : 10,
    ordering,
  }));
  const webhookIds = await insertWebhooks(db.pool, specs);
  const targets = webhookIds.map((webhookId, i) => ({ webhookId, teamId: BENCH_TEAM, projectId: i + 1 }));
  const started = Date.now();
  const orderingKey = keys === undefined ? undefined : (k: number) => `key-${k % keys}`;
  const deliveries = await seedEventsWithDeliveries(db.url, events, targets, BENCH_EVENT, paddedData(settings.payloadBytes), { orderingKey });
  const due = deliveries.filter((d) => !d.waiting);
  const queue = openBenchQueue(redis?.url ?? settings.redisUrl, prefix, redis?.layout);
  try {
    await queue.enqueueFirstAttempts(due);
  } finally {
    await queue.close();
  }
  note(
    `seeded ${events} events + deliveries to ${webhooks} webhooks (${hangCount} never answer` +
      `${keys === undefined ? '' : `, ordering ${ordering}, ${keys} ordering keys, ${due.length} queued`}) in ${Date.now() - started} ms`,
  );
  return {
    prefix,
    webhookIds,
    hangWebhookIds: new Set(webhookIds.slice(0, hangCount)),
    deliveries,
    cleanup: () => deletePrefix(settings.redisUrl, prefix), // on a scenario's own cluster: nothing there (keys go with it)
  };
}

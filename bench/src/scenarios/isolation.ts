import type { BenchContext } from '../context.js';
import { heading, note, sleep } from '../progress.js';
import { startWorker } from '../stack.js';
import { arrivalRate, watchDeliveries } from './deliveries-watch.js';
import { prepareDeliveries } from './delivery-setup.js';

export interface IsolationResult {
  events: number;
  webhooks: number;
  hangWebhooks: number;
  healthyExpected: number;
  healthyDelivered: number;
  healthyPerSecond: number;
  hangAttemptsStarted: number;
  complete: boolean;
  stopReason: string | null;
}

/** Scenario 5: one worker drains a backlog where a share of the webhooks never answer. */
export async function runIsolation(ctx: BenchContext): Promise<IsolationResult> {
  const { settings, receiver } = ctx;
  const webhooks = settings.webhooks;
  const hangWebhooks = Math.max(1, Math.round(webhooks * settings.isolationHangShare));
  const events = settings.isolationEvents;
  heading(
    `isolation: ${events} deliveries, ${hangWebhooks} of ${webhooks} webhooks never answer (timeout ${settings.hangTimeoutSeconds} s), 1 worker`,
  );
  const setup = await prepareDeliveries(ctx, { events, webhooks, hangCount: hangWebhooks });
  const healthy = setup.deliveries.filter((d) => !setup.hangWebhookIds.has(d.webhookId));
  await receiver.reset();
  const worker = startWorker(settings, ctx.db.url, setup.prefix, { name: 'worker-isolation', profileRunId: ctx.runId });
  try {
    const watched = await watchDeliveries(receiver, 'isolation healthy', healthy.length, {
      stallMs: settings.stallMs,
      maxMs: 3 * 60_000,
      processes: [worker.child],
    });
    const stats = await receiver.stats();
    const healthyIds = new Set(healthy.map((d) => d.deliveryId));
    const seen = await receiver.deliveryIds();
    const delivered = seen.filter((id) => healthyIds.has(id)).length;
    const result: IsolationResult = {
      events,
      webhooks,
      hangWebhooks,
      healthyExpected: healthy.length,
      healthyDelivered: delivered,
      healthyPerSecond: arrivalRate(stats, delivered),
      hangAttemptsStarted: stats.hangTotal,
      complete: watched.complete,
      stopReason: watched.stopReason,
    };
    note(`isolation: ${Math.round(result.healthyPerSecond)} healthy deliveries/s, ${stats.hangTotal} attempts to the silent receiver`);
    return result;
  } finally {
    // Cut the hanging attempts so the worker's graceful stop does not wait out their timeouts.
    await receiver.closeHanging();
    await sleep(100);
    await worker.stop();
    await setup.cleanup();
  }
}

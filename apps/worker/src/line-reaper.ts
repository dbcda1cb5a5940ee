import type { Logger } from 'pino';
import type { WebhookLine } from './webhook-line.js';

/**
 * Gives lapsed leases back: a killed worker's deliveries return to the head of their line
 * and the freed slots are granted (as leased jobs). Only webhooks whose earliest lease may
 * have lapsed are looked at (the `line-due` sorted set), so an idle tick is one ZRANGEBYSCORE.
 * Every worker runs one; a pass is atomic per webhook, so two reapers never grant twice.
 */
export interface LineReaper {
  stop(): void;
}

export const REAP_INTERVAL_MS = 1_000;
const REAP_BATCH = 100;

export function startLineReaper(deps: { line: WebhookLine; logger: Logger; intervalMs?: number }): LineReaper {
  const { line, logger } = deps;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function reapOnce(): Promise<void> {
    for (const webhookId of await line.dueWebhooks(REAP_BATCH)) {
      await line.queueGranted(webhookId, await line.pump(webhookId));
    }
  }

  const tick = () => {
    void reapOnce()
      .catch((err: unknown) => logger.warn({ err: { message: (err as Error).message } }, 'line reaper pass failed; will try again'))
      .finally(() => {
        if (!stopped) {
          timer = setTimeout(tick, deps.intervalMs ?? REAP_INTERVAL_MS);
          timer.unref();
        }
      });
  };
  timer = setTimeout(tick, deps.intervalMs ?? REAP_INTERVAL_MS);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

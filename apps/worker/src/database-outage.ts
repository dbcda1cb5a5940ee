import { withTimeout } from '@hooklane/core';
import { pingDatabase, type Db } from '@hooklane/db';
import type { Logger } from 'pino';

/**
 * What a worker does while PostgreSQL is unreachable: nothing. A job that ran into the
 * outage is handed back to the queue for later (it does not fail, and an attempt whose
 * outcome could not be recorded is simply made again), and the worker stops taking new
 * jobs until the database answers again, instead of burning through the queue failing
 * every job it pulls.
 *
 * An error is blamed on an outage only if a fresh probe (`SELECT 1`) fails too: no list of
 * error codes to keep up to date, and a genuine bug still fails its job loudly.
 */

export interface DatabaseOutage {
  /** After a step failed with some error: true when PostgreSQL is unreachable (the worker is then paused until it is back). */
  explains(err: unknown): Promise<boolean>;
  /** True while an outage is going on. */
  readonly ongoing: boolean;
  stop(): void;
}

export interface DatabaseOutageOptions {
  db: Db;
  logger: Logger;
  /** Stop taking jobs (those in flight finish or are handed back). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
}

const DEFAULT_PROBE_INTERVAL_MS = 1_000;
const DEFAULT_PROBE_TIMEOUT_MS = 5_000;

/** True when PostgreSQL answers `SELECT 1` within `timeoutMs`; false on any error or when the time is up. */
function databaseAnswers(db: Db, timeoutMs: number): Promise<boolean> {
  return withTimeout(pingDatabase(db), timeoutMs, 'database probe').then(
    () => true,
    () => false,
  );
}

export function watchDatabaseOutage(options: DatabaseOutageOptions): DatabaseOutage {
  const { db, logger } = options;
  const probeIntervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
  const probeTimeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  let ongoing = false;
  let stopped = false;
  let probing: Promise<boolean> | undefined;
  let timer: NodeJS.Timeout | undefined;

  // Many jobs fail at once when the database goes away; they share one probe.
  function probe(): Promise<boolean> {
    probing ??= databaseAnswers(db, probeTimeoutMs).finally(() => {
      probing = undefined;
    });
    return probing;
  }

  function waitForRecovery(): void {
    timer = setTimeout(async () => {
      if (stopped) return;
      if (!(await probe())) return waitForRecovery();
      ongoing = false;
      logger.warn('PostgreSQL is reachable again: worker resumes taking jobs');
      await options.resume().catch((err: unknown) => logger.error({ err: { message: (err as Error).message } }, 'could not resume worker'));
    }, probeIntervalMs);
    timer.unref();
  }

  return {
    get ongoing() {
      return ongoing;
    },
    async explains(err) {
      if (ongoing) return true;
      if (await probe()) return false;
      if (ongoing || stopped) return ongoing;
      ongoing = true;
      logger.error(
        { err: { message: err instanceof Error ? err.message.split('\n').at(-1) : String(err) } },
        'PostgreSQL is unreachable: worker pauses, jobs in flight are handed back for later',
      );
      await options.pause().catch((pauseErr: unknown) => logger.error({ err: { message: (pauseErr as Error).message } }, 'could not pause worker'));
      waitForRecovery();
      return true;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

import { runRetentionOn, type RetentionDay, type RetentionOptions, type RetentionRun } from '@hooklane/db';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The retention task every worker runs on a schedule (RETENTION_INTERVAL_MS); a
 * PostgreSQL advisory lock lets one at a time through and the others skip that round.
 * Each run creates the day partitions of the coming week and drops the days older than
 * RETENTION_DAYS that hold nothing pending (packages/db/src/retention-queries.ts).
 */

export interface RetentionTaskDeps {
  databaseUrl: string;
  retentionDays: number;
  intervalMs: number;
  logger: Logger;
  registry: Registry;
  /** The task's notion of now; tests pass a shifted clock instead of waiting days. */
  clock?: () => Date;
  /** Runs the pass; tests may wrap it. Defaults to the real one on a connection of its own. */
  run?: (databaseUrl: string, options: RetentionOptions) => Promise<RetentionRun>;
  /** First run after this (default: a few seconds, spread so workers started together do not all try at once). */
  firstRunInMs?: number;
}

export interface RetentionTask {
  /** One pass now (also what the schedule calls); null if it failed (logged). */
  runOnce(): Promise<RetentionRun | null>;
  close(): Promise<void>;
}

const DAYS_AHEAD = 7;
const LOCK_TIMEOUT_MS = 250;

export function createRetentionMetrics(registry: Registry) {
  return {
    partitionsDropped: new Counter({
      name: 'webhook_retention_partitions_dropped_total',
      help: 'Partitions dropped by retention (a day of events, deliveries or attempts each)',
      registers: [registry],
    }),
    rowsDropped: new Counter({
      name: 'webhook_retention_rows_dropped_total',
      help: 'Rows removed by retention, by table: with the partitions it dropped, and in batches from the default partitions',
      labelNames: ['table'],
      registers: [registry],
    }),
    daysKept: new Gauge({
      name: 'webhook_retention_days_kept_pending',
      help: 'Days past retention kept at the last run because a delivery of theirs is still pending',
      registers: [registry],
    }),
    lastRun: new Gauge({
      name: 'webhook_retention_last_run_timestamp_seconds',
      help: 'When this worker last completed a retention run (it held the lock)',
      registers: [registry],
    }),
  };
}

type RetentionMetrics = ReturnType<typeof createRetentionMetrics>;

/** The log line per day (dropped, kept, failed) and per run, with the metrics they move. */
function retentionLog(logger: Logger, metrics: RetentionMetrics) {
  return {
    day(day: RetentionDay) {
      const fields = { partition: day.suffix, rows: day.rows, pending: day.pending, drop_ms: Math.round(day.dropMs * 10) / 10 };
      if (day.outcome === 'dropped') {
        metrics.partitionsDropped.inc(3);
        for (const [table, n] of Object.entries(day.rows)) metrics.rowsDropped.inc({ table }, n);
        logger.info(fields, 'retention: partition dropped');
      } else if (day.outcome === 'kept') {
        logger.info(fields, 'retention: partition kept, deliveries still pending');
      } else {
        logger.warn({ ...fields, error: day.error }, 'retention: partition not dropped, retried next run');
      }
    },
    run(result: RetentionRun) {
      metrics.daysKept.set(result.days.filter((d) => d.outcome === 'kept').length);
      for (const skipped of result.partitions.skipped) logger.debug(skipped, 'retention: day partition not created');
      if (result.partitions.created.length > 0) logger.info({ created: result.partitions.created }, 'retention: partitions created ahead');
      const { error, ...rows } = result.defaultRows;
      for (const [table, n] of Object.entries(rows)) metrics.rowsDropped.inc({ table }, n);
      if (error) logger.warn({ rows, error }, 'retention: deleting old rows of the default partitions failed, retried next run');
      else if (rows.events + rows.deliveries + rows.attempts > 0) logger.info({ rows }, 'retention: old rows deleted from the default partitions');
    },
  };
}

export function startRetentionTask(deps: RetentionTaskDeps): RetentionTask {
  const metrics = createRetentionMetrics(deps.registry);
  const clock = deps.clock ?? (() => new Date());
  const run = deps.run ?? runRetentionOn;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<RetentionRun | null> | undefined;
  let closed = false;
  const log = retentionLog(deps.logger, metrics);
  // Closing stops a run's paced default-partition sweep after its current batch, rather than waiting minutes for it.
  const closing = new AbortController();

  async function runOnce(): Promise<RetentionRun | null> {
    try {
      const result = await run(deps.databaseUrl, {
        now: clock(),
        retentionDays: deps.retentionDays,
        daysAhead: DAYS_AHEAD,
        lockTimeoutMs: LOCK_TIMEOUT_MS,
        onDay: log.day,
        signal: closing.signal,
      });
      if (result.ran) {
        metrics.lastRun.set(Date.now() / 1000);
        log.run(result);
      }
      return result;
    } catch (err) {
      deps.logger.warn({ err: { message: (err as Error).message } }, 'retention run failed; next run as scheduled');
      return null;
    }
  }

  const schedule = (inMs: number) => {
    if (closed) return;
    timer = setTimeout(() => {
      current = runOnce().finally(() => schedule(deps.intervalMs));
    }, inMs);
    timer.unref();
  };
  schedule(deps.firstRunInMs ?? 5_000 + Math.floor(Math.random() * 5_000));

  return {
    runOnce,
    async close() {
      closed = true;
      clearTimeout(timer);
      closing.abort();
      await current;
    },
  };
}

import type { BenchContext } from '../context.js';
import { paddedData } from '../context.js';
import { activityPer, countRows, databaseActivity, truncateAll, type DatabaseActivity } from '../database.js';
import { adminPost } from '../api-client.js';
import { spawnTs } from '../children/registry.js';
import { freePort, waitForHttp } from '../children/http-wait.js';
import { runAutocannon } from '../load/autocannon-load.js';
import { runClosedLoop, type ClosedLoopResult } from '../load/closed-loop.js';
import { heading, note, progressLine, sleep } from '../progress.js';
import { deletePrefix, randomQueuePrefix } from '../queue.js';
import { readCpuMs, startApi } from '../stack.js';
import { BENCH_EVENT, BENCH_TEAM } from './delivery-setup.js';

export interface LoadSummary {
  requestsPerSecond: number;
  /** The server process's CPU (user + system) per answered request during the measured run. */
  serverCpuMsPerRequest: number | null;
  requests: number;
  durationMs: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  statuses: Record<string, number>;
  sampleFailures: string[];
}

export interface IngestResult {
  connections: number;
  durationSeconds: number;
  bareExpress: LoadSummary;
  single: LoadSummary & {
    accepted: number;
    committedEvents: number;
    committedDeliveries: number;
    /** PostgreSQL work per accepted event (pg_stat_database), the harness's counting queries included. */
    databasePerEvent: DatabaseActivity;
  };
  batch: {
    batchSize: number;
    connections: number;
    eventsPerSecond: number;
    acceptedEvents: number;
    rejectedInBatch: number;
    committedEvents: number;
    requests: LoadSummary;
  };
}

/** Runs the load and reads the server's CPU time around it. */
async function measured(pid: number, run: () => Promise<ClosedLoopResult>): Promise<LoadSummary> {
  const before = await readCpuMs(pid);
  const result = await run();
  const after = await readCpuMs(pid);
  const cpu = before !== null && after !== null && result.requests > 0 ? (after - before) / result.requests : null;
  return summary(result, cpu);
}

function summary(r: ClosedLoopResult, serverCpuMsPerRequest: number | null): LoadSummary {
  return {
    requestsPerSecond: r.requestsPerSecond,
    serverCpuMsPerRequest,
    requests: r.requests,
    durationMs: r.durationMs,
    p50Ms: r.latencyMs.p50,
    p99Ms: r.latencyMs.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    statuses: r.statuses,
    sampleFailures: r.sampleFailures,
  };
}

function eventBody(projectId: number | null): Buffer {
  return Buffer.from(
    JSON.stringify({ event: BENCH_EVENT, team_id: BENCH_TEAM, ...(projectId === null ? {} : { project_id: projectId }), data: paddedData(1024) }),
  );
}

/** Scenario 3: single-event ingest against bare Express in the same run, then batch ingest. */
export async function runIngest(ctx: BenchContext): Promise<IngestResult> {
  const { settings, db, receiver } = ctx;
  const connections = settings.ingestConnections;
  const durationMs = settings.ingestDurationMs;
  heading(`ingest: POST /v1/events, ${connections} connections, ${durationMs / 1000} s, against bare Express`);
  const single = eventBody(null);
  const json = { 'content-type': 'application/json' };

  // The baseline: same load, same body, an Express app that only parses JSON and answers 202.
  const port = await freePort();
  const bare = spawnTs('bare-express', 'bench/src/children/express-baseline-process.ts', {
    env: { PORT: String(port), NODE_ENV: 'production' },
  });
  let bareResult: LoadSummary;
  try {
    await waitForHttp(`http://127.0.0.1:${port}/`, bare, { expect: 404 });
    const url = `http://127.0.0.1:${port}/v1/events`;
    await runAutocannon({ url, headers: json, body: single, connections, durationMs: settings.warmupMs });
    bareResult = await measured(bare.pid, () =>
      runAutocannon({
        url,
        headers: json,
        body: single,
        connections,
        durationMs,
        onTick: (n, ms) => progressLine('bare express', n, null, ms),
      }),
    );
    note(`bare express: ${Math.round(bareResult.requestsPerSecond)} req/s, p99 ${bareResult.p99Ms.toFixed(1)} ms, CPU ${bareResult.serverCpuMsPerRequest?.toFixed(2)} ms/request`);
  } finally {
    await bare.stop();
  }

  await truncateAll(db.pool);
  const prefix = randomQueuePrefix();
  const api = await startApi(settings, db.url, prefix, { name: 'api-ingest', profileRunId: ctx.runId });
  try {
    const key = await adminPost<{ key: string }>(api.baseUrl, '/v1/api-keys', { team_id: BENCH_TEAM }, 201);
    await adminPost(api.baseUrl, '/v1/webhooks', { team_id: BENCH_TEAM, url: receiver.fastUrl, events: [BENCH_EVENT] }, 201);
    const headers = { ...json, authorization: `Bearer ${key.key}` };
    const url = `${api.baseUrl}/v1/events`;

    await runAutocannon({ url, headers, body: single, connections, durationMs: settings.warmupMs });
    await sleep(700);
    const activityBefore = await databaseActivity(db.pool, db.name);
    const eventsBefore = await countRows(db.pool, 'SELECT count(*) AS n FROM events');
    const deliveriesBefore = await countRows(db.pool, 'SELECT count(*) AS n FROM deliveries');
    const singleResult = await measured(api.child.pid, () =>
      runAutocannon({
        url,
        headers,
        body: single,
        connections,
        durationMs,
        onTick: (n, ms) => progressLine('POST /v1/events', n, null, ms),
      }),
    );
    // The closed loop waits for every answer, so each 202 it counted must already be a committed row.
    const committedEvents = (await countRows(db.pool, 'SELECT count(*) AS n FROM events')) - eventsBefore;
    const committedDeliveries = (await countRows(db.pool, 'SELECT count(*) AS n FROM deliveries')) - deliveriesBefore;
    const accepted = singleResult.statuses['202'] ?? 0;
    await sleep(700);
    const databasePerEvent = activityPer(activityBefore, await databaseActivity(db.pool, db.name), Math.max(1, accepted));
    note(
      `POST /v1/events: ${Math.round(singleResult.requestsPerSecond)} req/s, p99 ${singleResult.p99Ms.toFixed(1)} ms, ` +
        `CPU ${singleResult.serverCpuMsPerRequest?.toFixed(2)} ms/request, ` +
        `accepted ${accepted}, committed ${committedEvents} events / ${committedDeliveries} deliveries`,
    );
    note(`PostgreSQL per event: ${JSON.stringify(databasePerEvent)}`);
    if (singleResult.sampleFailures.length) note(`failures: ${singleResult.sampleFailures.join(' | ')}`);

    heading(`ingest: POST /v1/events/batch, ${settings.batchSize} events per request, ${settings.batchConnections} connections`);
    const batchBody = Buffer.from(
      JSON.stringify({
        events: Array.from({ length: settings.batchSize }, () => ({ event: BENCH_EVENT, team_id: BENCH_TEAM, data: paddedData(1024) })),
      }),
    );
    const batchUrl = `${api.baseUrl}/v1/events/batch`;
    await runClosedLoop({ url: batchUrl, headers, body: batchBody, connections: settings.batchConnections, durationMs: settings.warmupMs });
    const batchBefore = await countRows(db.pool, 'SELECT count(*) AS n FROM events');
    const batchResult = await measured(api.child.pid, () =>
      runClosedLoop({
        url: batchUrl,
        headers,
        body: batchBody,
        connections: settings.batchConnections,
        durationMs: settings.batchDurationMs,
        onTick: (n, ms) => progressLine('POST /v1/events/batch', n * settings.batchSize, null, ms, `${n} requests`),
      }),
    );
    const batchCommitted = (await countRows(db.pool, 'SELECT count(*) AS n FROM events')) - batchBefore;
    const batchAcceptedRequests = batchResult.statuses['202'] ?? 0;
    // Each result of an accepted batch is either an event or a per-item error; the rows tell which.
    const acceptedEvents = Math.min(batchCommitted, batchAcceptedRequests * settings.batchSize);
    const rejectedInBatch = batchAcceptedRequests * settings.batchSize - acceptedEvents;
    const eventsPerSecond = (acceptedEvents / batchResult.durationMs) * 1000;
    note(`POST /v1/events/batch: ${Math.round(eventsPerSecond)} events/s, p99 ${batchResult.p99Ms.toFixed(1)} ms per request`);
    if (batchResult.sampleFailures.length) note(`failures: ${batchResult.sampleFailures.join(' | ')}`);

    return {
      connections,
      durationSeconds: durationMs / 1000,
      bareExpress: bareResult,
      single: { ...singleResult, accepted, committedEvents, committedDeliveries, databasePerEvent },
      batch: {
        batchSize: settings.batchSize,
        connections: settings.batchConnections,
        eventsPerSecond,
        acceptedEvents,
        rejectedInBatch,
        committedEvents: batchCommitted,
        requests: batchResult,
      },
    };
  } finally {
    await api.stop();
    await deletePrefix(settings.redisUrl, prefix);
  }
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './children/registry.js';
import type { RawResult } from './scenarios/raw.js';
import type { DrainResult } from './scenarios/drain.js';
import type { IngestResult } from './scenarios/ingest.js';
import type { LatencyResult } from './scenarios/latency.js';
import type { IsolationResult } from './scenarios/isolation.js';
import type { OverloadResult } from './scenarios/overload.js';
import type { RetentionResult } from './scenarios/retention.js';

export interface ScenarioResults {
  raw?: RawResult;
  drain1?: DrainResult;
  drain2?: DrainResult;
  ingest?: IngestResult;
  latency?: LatencyResult;
  isolation?: IsolationResult;
  hot?: DrainResult;
  scale3?: DrainResult;
  scale4?: DrainResult;
  overload?: OverloadResult;
  latency2?: LatencyResult;
  fifoNone?: DrainResult;
  fifo?: DrainResult;
  fifoOne?: DrainResult;
  /** drain1's backlog on a 3-master cluster with QUEUE_PARTITIONS=3 (scenarios/cluster.ts). */
  cluster3?: DrainResult;
  retention?: RetentionResult;
}

export interface Figure {
  scenario: string;
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  /** true met, false missed, null: no target (informational). */
  met: boolean | null;
  command: string;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(1)} ms`;
const pct = (n: number) => `${(n * 100).toFixed(0)}%`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

/** Turns scenario results into the rows of the table, each with its target and verdict. */
export function buildFigures(r: ScenarioResults): Figure[] {
  const rows: Figure[] = [];
  if (r.raw) {
    rows.push({
      scenario: 'raw',
      figure: 'deliveries/s (got + worker agents → receiver)',
      value: int(r.raw.deliveriesPerSecond),
      baseline: '—',
      ratio: '—',
      target: 'baseline',
      met: null,
      command: 'npm run bench -- raw',
    });
  }
  for (const d of [r.drain1, r.drain2]) {
    if (!d) continue;
    const ratio = r.raw ? d.deliveriesPerSecond / r.raw.deliveriesPerSecond : NaN;
    const hasTarget = d.workers === 1;
    rows.push({
      scenario: 'drain',
      figure: `deliveries/s, ${d.workers} worker${d.workers > 1 ? 's' : ''}`,
      value: d.complete ? int(d.deliveriesPerSecond) : `incomplete (${int(d.events - d.lost)}/${int(d.events)})`,
      baseline: r.raw ? `raw ${int(r.raw.deliveriesPerSecond)}` : '—',
      ratio: Number.isFinite(ratio) ? pct(ratio) : '—',
      target: hasTarget ? '≥ 70% of raw' : '—',
      // Without raw in the same run there is no ratio to judge (e.g. `npm run bench -- isolation`).
      met: hasTarget && r.raw ? d.complete && ratio >= 0.7 : null,
      command: 'npm run bench -- drain',
    });
    if (d.workerCpuMsPerDelivery !== null) {
      const rawCpu = r.raw?.clientCpuMsPerDelivery ?? null;
      rows.push({
        scenario: 'drain',
        figure: `worker CPU per delivery, ${d.workers} worker${d.workers > 1 ? 's' : ''}`,
        value: `${d.workerCpuMsPerDelivery.toFixed(2)} ms`,
        baseline: rawCpu !== null ? `raw client ${rawCpu.toFixed(2)} ms` : '—',
        ratio: rawCpu !== null ? `${(d.workerCpuMsPerDelivery / rawCpu).toFixed(1)}×` : '—',
        target: '—',
        met: null,
        command: 'npm run bench -- drain',
      });
    }
    rows.push({
      scenario: 'drain',
      figure: `lost / duplicated, ${d.workers} worker${d.workers > 1 ? 's' : ''}`,
      value: `${d.lost} / ${d.duplicates}`,
      baseline: `${int(d.events)} events`,
      ratio: '—',
      target: '0 lost',
      met: d.lost === 0,
      command: 'npm run bench -- drain',
    });
  }
  if (r.ingest) {
    const i = r.ingest;
    const ratio = i.single.requestsPerSecond / i.bareExpress.requestsPerSecond;
    const allCommitted = i.single.committedEvents >= i.single.accepted && i.single.accepted > 0;
    rows.push({
      scenario: 'ingest',
      figure: `POST /v1/events req/s (${i.connections} conns, ${i.durationSeconds} s)`,
      value: int(i.single.requestsPerSecond),
      baseline: `bare Express ${int(i.bareExpress.requestsPerSecond)}`,
      ratio: pct(ratio),
      target: '≥ 40% of bare Express',
      met: ratio >= 0.4,
      command: 'npm run bench -- ingest',
    });
    rows.push({
      scenario: 'ingest',
      figure: 'POST /v1/events p50 / p99',
      value: `${ms(i.single.p50Ms)} / ${ms(i.single.p99Ms)}`,
      baseline: `${ms(i.bareExpress.p50Ms)} / ${ms(i.bareExpress.p99Ms)}`,
      ratio: '—',
      target: '—',
      met: null,
      command: 'npm run bench -- ingest',
    });
    if (i.single.serverCpuMsPerRequest !== null && i.bareExpress.serverCpuMsPerRequest !== null) {
      rows.push({
        scenario: 'ingest',
        figure: 'server CPU per POST /v1/events',
        value: `${i.single.serverCpuMsPerRequest.toFixed(2)} ms`,
        baseline: `bare Express ${i.bareExpress.serverCpuMsPerRequest.toFixed(2)} ms`,
        ratio: `${(i.single.serverCpuMsPerRequest / i.bareExpress.serverCpuMsPerRequest).toFixed(1)}×`,
        target: '—',
        met: null,
        command: 'npm run bench -- ingest',
      });
    }
    rows.push({
      scenario: 'ingest',
      figure: 'accepted (202) → committed events; errors',
      value: `${int(i.single.accepted)} → ${int(i.single.committedEvents)}; ${int(i.single.errors + i.single.non2xx)} non-202/errors`,
      baseline: '—',
      ratio: '—',
      target: 'every 202 committed',
      met: allCommitted,
      command: 'npm run bench -- ingest',
    });
    rows.push({
      scenario: 'ingest',
      figure: `POST /v1/events/batch events/s (${i.batch.batchSize}/request, ${i.batch.connections} conns)`,
      value: int(i.batch.eventsPerSecond),
      baseline: '—',
      ratio: '—',
      target: '≥ 20,000 events/s',
      met: i.batch.eventsPerSecond >= 20_000,
      command: 'npm run bench -- ingest',
    });
  }
  if (r.latency) {
    const l = r.latency;
    rows.push({
      scenario: 'latency',
      figure: `emit → receiver p50 / p95 / p99 at ${l.ratePerSecond}/s`,
      value: `${ms(l.endToEndMs.p50)} / ${ms(l.endToEndMs.p95)} / ${ms(l.endToEndMs.p99)}`,
      baseline: '—',
      ratio: '—',
      target: 'p99 ≤ 25 ms',
      met: l.missing === 0 && l.endToEndMs.p99 <= 25,
      command: 'npm run bench -- latency',
    });
  }
  if (r.latency) {
    const l = r.latency.lowRate;
    rows.push({
      scenario: 'latency',
      figure: `emit → receiver p50 / p95 / p99 at ${l.ratePerSecond}/s (for comparison)`,
      value: `${ms(l.endToEndMs.p50)} / ${ms(l.endToEndMs.p95)} / ${ms(l.endToEndMs.p99)}`,
      baseline: '—',
      ratio: '—',
      target: '—',
      met: null,
      command: 'npm run bench -- latency',
    });
    rows.push({
      scenario: 'latency',
      figure: `API answer p50 / p99 at ${r.latency.ratePerSecond}/s`,
      value: `${ms(r.latency.ingestAnswerMs.p50)} / ${ms(r.latency.ingestAnswerMs.p99)}`,
      baseline: `at ${l.ratePerSecond}/s ${ms(l.ingestAnswerMs.p50)} / ${ms(l.ingestAnswerMs.p99)}`,
      ratio: '—',
      target: '—',
      met: null,
      command: 'npm run bench -- latency',
    });
  }
  if (r.latency && r.latency2) {
    const one = r.latency.endToEndMs.p99;
    const two = r.latency2.endToEndMs.p99;
    rows.push({
      scenario: 'latency',
      figure: `emit → receiver p99 at ${r.latency2.ratePerSecond}/s, 2 workers`,
      value: ms(two),
      baseline: `1 worker ${ms(one)}`,
      ratio: `${(two / one).toFixed(2)}×`,
      target: 'p99 with 2 workers ≤ with 1',
      met: r.latency2.missing === 0 && two <= one,
      command: 'npm run bench -- latency',
    });
  }
  if (r.overload) {
    const o = r.overload;
    const w = o.withDead;
    const common = { scenario: 'overload', baseline: '—', ratio: '—', command: 'npm run bench -- overload' };
    rows.push({
      ...common,
      figure: `attempts/s per 15 s under load (dead backlog ${int(w.deadBacklog)})`,
      value: w.attemptsPerSecond.map((a) => int(a)).join(', '),
      ratio: `worst ${pct(o.worstWindowRatio)} of the first minute`,
      target: 'no window < 80% of the first minute',
      met: o.worstWindowRatio >= 0.8,
    });
    rows.push({
      ...common,
      figure: 'healthy webhook: delivered; rate under load; p50 / p99',
      value: `${int(w.healthyDelivered)}/${int(w.healthySent)}; ${int(w.healthyPerSecondUnderLoad)}/s; ${ms(w.healthyEndToEndMs.p50)} / ${ms(w.healthyEndToEndMs.p99)}`,
      baseline: `alone ${int(o.alone.healthyPerSecondUnderLoad)}/s`,
      ratio: pct(o.healthyRateRatio),
      target: 'all delivered; ≥ 80% of alone',
      met: o.allDelivered && o.healthyRateRatio >= 0.8,
    });
  }
  if (r.isolation) {
    const s = r.isolation;
    const base = r.drain1?.deliveriesPerSecond;
    const ratio = base ? s.healthyPerSecond / base : NaN;
    rows.push({
      scenario: 'isolation',
      figure: `healthy deliveries/s, ${s.hangWebhooks}/${s.webhooks} webhooks silent`,
      value: s.complete ? int(s.healthyPerSecond) : `incomplete (${int(s.healthyDelivered)}/${int(s.healthyExpected)})`,
      baseline: base ? `drain 1 worker ${int(base)}` : '—',
      ratio: Number.isFinite(ratio) ? pct(ratio) : '—',
      target: '≥ 90% of drain',
      met: s.complete && ratio >= 0.9,
      command: 'npm run bench -- isolation',
    });
  }
  if (r.drain1) {
    const peak = Math.max(...r.drain1.peakRssBytes);
    rows.push({
      scenario: 'memory',
      figure: 'worker peak RSS (VmHWM) during drain, 1 worker',
      value: mb(peak),
      baseline: r.raw?.peakRssBytes ? `raw client ${mb(r.raw.peakRssBytes)}` : '—',
      ratio: '—',
      target: '≤ 200 MB',
      met: peak <= 200 * 2 ** 20,
      command: 'npm run bench -- memory',
    });
  }
  if (r.drain2) {
    rows.push({
      scenario: 'memory',
      figure: 'worker peak RSS during drain, 2 workers (each)',
      value: r.drain2.peakRssBytes.map(mb).join(', '),
      baseline: '—',
      ratio: '—',
      target: '≤ 200 MB',
      met: r.drain2.peakRssBytes.every((p) => p <= 200 * 2 ** 20),
      command: 'npm run bench -- drain',
    });
  }
  return rows;
}

function verdict(met: boolean | null): string {
  if (met === null) return '';
  return met ? 'met' : '**missed**';
}

export function markdownTable(rows: Figure[]): string {
  const head = '| scenario | figure | value | baseline (same run) | ratio | target | result |\n|---|---|---|---|---|---|---|';
  const body = rows.map((f) => `| ${f.scenario} | ${f.figure} | ${f.value} | ${f.baseline} | ${f.ratio} | ${f.target} | ${verdict(f.met)} |`);
  return [head, ...body].join('\n');
}

export function writeJson(fileStem: string, data: unknown): string {
  const dir = resolve(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const path = resolve(dir, `${fileStem}.json`);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

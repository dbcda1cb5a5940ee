import type { Figure } from './report.js';
import type { RetentionResult } from './scenarios/retention.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
const COMMAND = 'npm run bench -- retention';
const cpuShare = (ms: number, [from, to]: [number, number]) => `${((ms / (to - from)) * 100).toFixed(1)}% of a core`;

/** The retention scenario's rows: each throughput with retention against the same without it, in the same run. */
export function buildRetentionFigures(r: RetentionResult | undefined): Figure[] {
  if (!r) return [];
  const ingest = r.with.ingestRequestsPerSecond / r.without.ingestRequestsPerSecond;
  const drain = r.with.drainDeliveriesPerSecond / r.without.drainDeliveriesPerSecond;
  const old = `${int(r.oldRows.total)} old rows`;
  return [
    {
      scenario: 'retention',
      figure: `POST /v1/events req/s, retention running on ${old}`,
      value: int(r.with.ingestRequestsPerSecond),
      baseline: `none ${int(r.without.ingestRequestsPerSecond)} (${int(r.withoutBefore.ingestRequestsPerSecond)} before, ${int(r.withoutAfter.ingestRequestsPerSecond)} after)`,
      ratio: pct(ingest),
      target: '> 95% of without',
      met: ingest > 0.95 && r.with.ingestNon2xx === 0,
      command: COMMAND,
    },
    {
      scenario: 'retention',
      figure: `deliveries/s (1 worker), retention running on ${old}`,
      value: r.with.drainComplete ? int(r.with.drainDeliveriesPerSecond) : `incomplete (lost ${r.with.drainLost})`,
      baseline: `none ${int(r.without.drainDeliveriesPerSecond)} (${int(r.withoutBefore.drainDeliveriesPerSecond)} before, ${int(r.withoutAfter.drainDeliveriesPerSecond)} after)`,
      ratio: pct(drain),
      target: '> 95% of without',
      met: drain > 0.95 && r.with.drainComplete,
      command: COMMAND,
    },
    {
      scenario: 'retention',
      figure: 'CPU of the PostgreSQL backend running retention, ingest / drain window',
      value: `${cpuShare(r.backendCpuMs.ingest, r.windows.ingest)} / ${cpuShare(r.backendCpuMs.drain, r.windows.drain)}`,
      baseline: '2 cores',
      ratio: '—',
      target: '—',
      met: null,
      command: COMMAND,
    },
    {
      scenario: 'retention',
      figure: 'old rows left when the measurements ended / longest DROP TABLE',
      value: `${int(r.oldRowsLeftAfter)} / ${r.longestDropMs.toFixed(1)} ms`,
      baseline: old,
      ratio: '—',
      target: '—',
      met: null,
      command: COMMAND,
    },
  ];
}

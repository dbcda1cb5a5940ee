import type { Figure } from './report.js';
import type { DrainResult } from './scenarios/drain.js';

/**
 * The figures of issue 14 (ordered delivery): one webhook, its events over 100 ordering keys,
 * with `ordering: "fifo"` against the same load with `ordering: "none"` in the same run, and
 * one key alone (strictly one delivery after another). Redis and PostgreSQL work per delivery
 * from the same meters as the drains.
 */
export interface FifoResults {
  fifoNone?: DrainResult;
  fifo?: DrainResult;
  fifoOne?: DrainResult;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${(n * 100).toFixed(0)}%`;
const COMMAND = 'npm run bench -- fifo';

function rate(d: DrainResult): string {
  return d.complete ? int(d.deliveriesPerSecond) : `incomplete (${int(d.events - d.lost)}/${int(d.events)})`;
}

function name(d: DrainResult): string {
  return d.keys === 1 ? `${d.ordering}, 1 key` : `${d.ordering}, ${d.keys ?? 0} keys`;
}

/** A per-delivery cost of `d` next to the same figure of `base`, as a ratio. */
function costRow(figure: string, d: DrainResult, base: DrainResult | undefined, pick: (x: DrainResult) => number | null, unit = ''): Figure | null {
  const value = pick(d);
  if (value === null) return null;
  const baseline = base ? pick(base) : null;
  return {
    scenario: 'fifo',
    figure: `${figure}, ${name(d)}`,
    value: `${value}${unit}`,
    baseline: baseline !== null && base ? `${name(base)}: ${baseline}${unit}` : '—',
    ratio: baseline ? `${(value / baseline).toFixed(2)}×` : '—',
    target: '—',
    met: null,
    command: COMMAND,
  };
}

export function buildFifoFigures(r: FifoResults): Figure[] {
  const rows: Figure[] = [];
  const none = r.fifoNone;
  for (const d of [r.fifoNone, r.fifo, r.fifoOne]) {
    if (!d) continue;
    const base = d === none ? undefined : d.keys === 1 ? (r.fifo ?? none) : none;
    const ratio = base && base.deliveriesPerSecond > 0 ? d.deliveriesPerSecond / base.deliveriesPerSecond : NaN;
    rows.push({
      scenario: 'fifo',
      figure: `deliveries/s, 1 webhook, ${name(d)} (${int(d.events)} events)`,
      value: rate(d),
      baseline: base ? `${name(base)}: ${rate(base)}` : 'baseline',
      ratio: Number.isFinite(ratio) ? pct(ratio) : '—',
      target: '—',
      met: null,
      command: COMMAND,
    });
    if (d.keys === 1 && d.complete && d.deliveriesPerSecond > 0) {
      rows.push({
        scenario: 'fifo',
        figure: `one key: time per delivery (one round trip, record, wake the next)`,
        value: `${(1000 / d.deliveriesPerSecond).toFixed(2)} ms`,
        baseline: none ? `none, ${none.keys ?? 0} keys: ${rate(none)}/s` : '—',
        ratio: none && none.deliveriesPerSecond > 0 ? pct(d.deliveriesPerSecond / none.deliveriesPerSecond) : '—',
        target: '—',
        met: null,
        command: COMMAND,
      });
    }
    const extra = [
      costRow('Redis commands per delivery', d, base, (x) => x.costs?.redisCommandsPerDelivery ?? null),
      costRow('Redis CPU per delivery', d, base, (x) => x.costs?.redisCpuUsPerDelivery ?? null, ' µs'),
      costRow('PostgreSQL transactions per delivery', d, base, (x) => x.costs?.pgTransactionsPerDelivery ?? null),
      costRow('PostgreSQL CPU per delivery', d, base, (x) => x.costs?.pgCpuUsPerDelivery ?? null, ' µs'),
      costRow('worker CPU per delivery', d, base, (x) => (x.workerCpuMsPerDelivery === null ? null : Math.round(x.workerCpuMsPerDelivery * 1000)), ' µs'),
    ];
    for (const row of extra) if (row) rows.push(row);
    rows.push({
      scenario: 'fifo',
      figure: `lost / duplicated, ${name(d)}`,
      value: `${d.lost} / ${d.duplicates}`,
      baseline: `${int(d.events)} events`,
      ratio: '—',
      target: '0 lost',
      met: d.lost === 0,
      command: COMMAND,
    });
  }
  return rows;
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './children/registry.js';
import type { Figure } from './report.js';
import type { DrainResult } from './scenarios/drain.js';

/**
 * The figures of issue 10: Redis and PostgreSQL work per delivery for every drain, the hot
 * scenario against the 10-webhook drain, and workers that add up (the `scale` table and chart).
 */
export interface ScaleResults {
  drain1?: DrainResult;
  drain2?: DrainResult;
  hot?: DrainResult;
  scale3?: DrainResult;
  scale4?: DrainResult;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${(n * 100).toFixed(0)}%`;
const MB = 2 ** 20;

function label(d: DrainResult, name: string): string {
  return `${name}, ${d.workers} worker${d.workers > 1 ? 's' : ''}`;
}

function costRows(d: DrainResult, name: string, scenario: string): Figure[] {
  const c = d.costs;
  if (!c) return [];
  const judged = d.workers === 1;
  return [
    {
      scenario,
      figure: `Redis commands per delivery, ${label(d, name)}`,
      value: `${c.redisCommandsPerDelivery} (${Object.entries(c.redisTopCommands)
        .slice(0, 4)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
      baseline: 'peer 30',
      ratio: '—',
      target: judged ? '≤ 30' : '—',
      met: judged ? c.redisCommandsPerDelivery <= 30 : null,
      command: `npm run bench -- ${scenario}`,
    },
    {
      scenario,
      figure: `Redis CPU per delivery, ${label(d, name)}`,
      value: `${c.redisCpuUsPerDelivery} µs`,
      baseline: 'peer 168 µs',
      ratio: '—',
      target: judged ? '≤ 250 µs' : '—',
      met: judged ? c.redisCpuUsPerDelivery <= 250 : null,
      command: `npm run bench -- ${scenario}`,
    },
    {
      scenario,
      figure: `PostgreSQL CPU / transactions per delivery, ${label(d, name)}`,
      value: `${c.pgCpuUsPerDelivery} µs / ${c.pgTransactionsPerDelivery}`,
      baseline: d.workerCpuMsPerDelivery !== null ? `worker CPU ${(d.workerCpuMsPerDelivery * 1000).toFixed(0)} µs` : '—',
      ratio: '—',
      target: '—',
      met: null,
      command: `npm run bench -- ${scenario}`,
    },
  ];
}

export function buildScaleFigures(r: ScaleResults): Figure[] {
  const rows: Figure[] = [];
  if (r.drain1) rows.push(...costRows(r.drain1, 'drain', 'drain'));
  if (r.drain2) rows.push(...costRows(r.drain2, 'drain', 'drain'));
  if (r.hot) {
    rows.push(...costRows(r.hot, 'hot', 'hot'));
    const base = r.drain1?.deliveriesPerSecond;
    const ratio = base ? r.hot.deliveriesPerSecond / base : NaN;
    rows.push({
      scenario: 'hot',
      figure: 'deliveries/s, 1 webhook at the default cap, 1 worker',
      value: r.hot.complete ? int(r.hot.deliveriesPerSecond) : `incomplete (${int(r.hot.events - r.hot.lost)}/${int(r.hot.events)})`,
      baseline: base ? `drain ${int(base)}` : '—',
      ratio: Number.isFinite(ratio) ? pct(ratio) : '—',
      target: '≥ 60% of drain',
      met: base ? r.hot.complete && ratio >= 0.6 : null,
      command: 'npm run bench -- hot',
    });
    rows.push({
      scenario: 'hot',
      figure: 'lost / duplicated; worker peak RSS',
      value: `${r.hot.lost} / ${r.hot.duplicates}; ${Math.round(Math.max(...r.hot.peakRssBytes) / MB)} MB`,
      baseline: `${int(r.hot.events)} events`,
      ratio: '—',
      target: '0 / 0; ≤ 200 MB',
      met: r.hot.lost === 0 && r.hot.duplicates === 0 && Math.max(...r.hot.peakRssBytes) <= 200 * MB,
      command: 'npm run bench -- hot',
    });
  }
  if (r.drain1 && r.drain2) {
    const rate = r.drain2.deliveriesPerSecond / r.drain1.deliveriesPerSecond;
    const cpu1 = r.drain1.workerCpuMsPerDelivery;
    const cpu2 = r.drain2.workerCpuMsPerDelivery;
    rows.push({
      scenario: 'scale',
      figure: '2 workers against 1: rate; worker CPU per delivery',
      value: `${rate.toFixed(2)}×; ${cpu1 && cpu2 ? `${(cpu2 / cpu1).toFixed(2)}×` : '?'}`,
      baseline: `1 worker ${int(r.drain1.deliveriesPerSecond)}/s`,
      ratio: '—',
      target: '≥ 1.0×; ≤ 1.25×',
      met: rate >= 1 && cpu1 !== null && cpu2 !== null && cpu2 / cpu1 <= 1.25,
      command: 'npm run bench -- scale',
    });
  }
  return rows;
}

/** The `scale` table: one row per worker count. */
export function scaleTable(r: ScaleResults): string {
  const runs = [r.drain1, r.drain2, r.scale3, r.scale4].filter((d): d is DrainResult => d !== undefined);
  if (runs.length === 0) return '';
  const head = '| workers | deliveries/s | worker CPU ms/delivery | Redis cmds/delivery | Redis µs/delivery | PG µs/delivery | lost/dup |\n|---|---|---|---|---|---|---|';
  const body = runs.map(
    (d) =>
      `| ${d.workers} | ${int(d.deliveriesPerSecond)} | ${d.workerCpuMsPerDelivery?.toFixed(2) ?? '?'} | ${d.costs?.redisCommandsPerDelivery ?? '?'} | ${d.costs?.redisCpuUsPerDelivery ?? '?'} | ${d.costs?.pgCpuUsPerDelivery ?? '?'} | ${d.lost}/${d.duplicates} |`,
  );
  return [head, ...body].join('\n');
}

/** A bar chart of deliveries/s by worker count, written next to the JSON results; BENCHMARKS.md shows it. */
export function writeScaleSvg(r: ScaleResults, fileStem: string): string | null {
  const runs = [r.drain1, r.drain2, r.scale3, r.scale4].filter((d): d is DrainResult => d !== undefined);
  if (runs.length < 2) return null;
  const width = 480;
  const height = 280;
  const top = Math.max(...runs.map((d) => d.deliveriesPerSecond)) * 1.15;
  const barW = 60;
  const gap = (width - 80 - runs.length * barW) / (runs.length + 1);
  const bars = runs
    .map((d, i) => {
      const h = ((height - 70) * d.deliveriesPerSecond) / top;
      const x = 60 + gap + i * (barW + gap);
      const y = height - 40 - h;
      return (
        `<rect x="${x.toFixed(0)}" y="${y.toFixed(0)}" width="${barW}" height="${h.toFixed(0)}" fill="#3b82f6"/>` +
        `<text x="${(x + barW / 2).toFixed(0)}" y="${(y - 6).toFixed(0)}" text-anchor="middle" font-size="12">${int(d.deliveriesPerSecond)}/s</text>` +
        `<text x="${(x + barW / 2).toFixed(0)}" y="${height - 22}" text-anchor="middle" font-size="12">${d.workers} worker${d.workers > 1 ? 's' : ''}</text>`
      );
    })
    .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">Drain rate by number of workers (${int(runs[0]!.events)} deliveries)</text>` +
    `<line x1="60" y1="${height - 40}" x2="${width - 20}" y2="${height - 40}" stroke="black"/>${bars}</svg>\n`;
  const dir = resolve(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const path = resolve(dir, `${fileStem}-scale.svg`);
  writeFileSync(path, svg);
  return path;
}

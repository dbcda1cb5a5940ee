/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`, e.g. a worker run with BENCH_CPU_PROF=1)
 * and prints where the time went: self time by package or repo directory, the hottest
 * functions, and inclusive time of the repo's own functions (which query or step of the
 * hot path each sample was under).
 *
 *   npx tsx bench/src/profile-summary.ts bench/results/profiles/<run>/worker-drain1-1.cpuprofile
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame lives: an npm package, a repo directory, node internals, or the VM itself. */
export function origin(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return 'node internals';
  // BENCH_RUNTIME=bundle: the API and worker run from bench/.build/<run>/*.mjs.
  const bundled = /\/bench\/\.build\/[^/]+\/([^/]+)\.mjs/.exec(url);
  if (bundled?.[1]) return `${bundled[1]} (bundled repo code)`;
  const repo = /\/(apps\/[^/]+|packages\/[^/]+|bench)\//.exec(url);
  if (repo?.[1]) return repo[1];
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^.*?\/(apps|packages)\//, '$1/');
}

export function summarize(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const o = origin(url, functionName);
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + us);
    const key = `${functionName || '(anonymous)'}  ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }

  // Inclusive time of repo frames: a sample counts once for every distinct repo function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur);
      if (!node) break;
      const { functionName, url, lineNumber } = node.callFrame;
      const repoFrame = /\/(apps|packages)\/[^/]+\/src\//.test(url) || url.includes('/bench/.build/');
      if (!repoFrame || url.includes('/generated/')) continue;
      const key = `${functionName || '(anonymous)'}  ${shortUrl(url)}:${lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }

  // Native and node-internal time charged to the nearest package or repo frame above it, e.g.
  // socket writes to whichever of pg, ioredis or got asked for them.
  const LOW_LEVEL = new Set(['(native)', 'node internals', '(program)']);
  const byCaller = new Map<string, number>();
  for (const [id, us] of selfUs) {
    let charged = '(unattributed)';
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur);
      if (!node) break;
      const o = origin(node.callFrame.url, node.callFrame.functionName);
      if (o === '(root)') break;
      if (!LOW_LEVEL.has(o)) {
        charged = o;
        break;
      }
    }
    byCaller.set(charged, (byCaller.get(charged) ?? 0) + us);
  }

  const pct = (us: number) => `${((us / totalUs) * 100).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)}  ${k}`)
      .join('\n');
  const wallS = (profile.endTime - profile.startTime) / 1e6;
  const idle = byOrigin.get('(idle)') ?? 0;
  return [
    `profile: ${wallS.toFixed(1)} s wall, ${(totalUs / 1e6).toFixed(1)} s sampled, ${pct(totalUs - idle).trim()} busy`,
    '',
    'self time by origin:',
    list(byOrigin, 15),
    '',
    'self time charged to the nearest package or repo frame:',
    list(byCaller, 15),
    '',
    'hottest functions (self):',
    list(byFunction, top),
    '',
    'repo functions (inclusive):',
    list(inclusive, top),
  ].join('\n');
}

const file = process.argv[2];
if (file) {
  process.stdout.write(`${summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile)}\n`);
}

/**
 * A closed-loop HTTP load generator in the manner of autocannon: `connections` keep-alive
 * connections, each sending its next request as soon as the previous answer is read, for a
 * fixed time. Single-event ingest and its baseline use autocannon itself
 * (`autocannon-load.ts`); this small equivalent drives batch ingest, whose answers it waits
 * for before stopping, so every request it counts is a finished one.
 */
import { Agent, request } from 'node:http';
import { nowMs } from '../children/clock.js';
import { percentiles, type Percentiles } from './percentiles.js';

export interface ClosedLoopOptions {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  connections: number;
  durationMs: number;
  /** Called once a second with the responses so far, for the progress line. */
  onTick?: (done: number, elapsedMs: number) => void;
}

export interface ClosedLoopResult {
  requests: number;
  durationMs: number;
  requestsPerSecond: number;
  latencyMs: Percentiles;
  /** Responses by status code. */
  statuses: Record<string, number>;
  /** Connection errors and timeouts (no HTTP answer at all). */
  errors: number;
  non2xx: number;
  /** Bodies of the first few non-2xx answers, to explain a failure in the report. */
  sampleFailures: string[];
}

interface Answer {
  status: number;
  body: string;
}

export function sendOnce(agent: Agent, url: URL, headers: Record<string, string>, body: Buffer, timeoutMs = 30_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        headers: { ...headers, 'content-length': String(body.length) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const sampleFailures: string[] = [];
  let errors = 0;
  let non2xx = 0;
  const start = nowMs();
  const stopAt = start + options.durationMs;
  const ticker = options.onTick
    ? setInterval(() => options.onTick?.(latencies.length, nowMs() - start), 1000)
    : undefined;

  async function lane(): Promise<void> {
    while (nowMs() < stopAt) {
      const sentAt = nowMs();
      try {
        const answer = await sendOnce(agent, url, options.headers, options.body);
        latencies.push(nowMs() - sentAt);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (answer.status < 200 || answer.status >= 300) {
          non2xx++;
          if (sampleFailures.length < 3) sampleFailures.push(`${answer.status} ${answer.body.slice(0, 300)}`);
        }
      } catch (err) {
        errors++;
        if (sampleFailures.length < 3) sampleFailures.push(String(err));
        // A refused connection would otherwise spin this loop at full speed.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  try {
    await Promise.all(Array.from({ length: options.connections }, lane));
  } finally {
    if (ticker) clearInterval(ticker);
    agent.destroy();
  }
  const durationMs = nowMs() - start;
  return {
    requests: latencies.length,
    durationMs,
    requestsPerSecond: (latencies.length / durationMs) * 1000,
    latencyMs: percentiles(latencies),
    statuses,
    errors,
    non2xx,
    sampleFailures,
  };
}

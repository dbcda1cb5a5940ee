/**
 * The single-event ingest load and its bare-Express baseline, driven by autocannon (closed
 * loop: `connections` keep-alive connections, each sending its next request as soon as the
 * previous answer is read). It reports in the shape of the home-made closed loop
 * (`closed-loop.ts`, still used for batch ingest), so the report reads both alike. Latencies
 * and statuses come from autocannon's per-response event, so percentiles are exact, not
 * histogram buckets. Requests still in flight when the time is up are abandoned, not counted.
 */
import autocannon from 'autocannon';
import { nowMs } from '../children/clock.js';
import type { ClosedLoopOptions, ClosedLoopResult } from './closed-loop.js';
import { percentiles } from './percentiles.js';

export async function runAutocannon(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let responses = 0;
  const started = nowMs();
  const ticker = options.onTick ? setInterval(() => options.onTick?.(responses, nowMs() - started), 1000) : undefined;
  try {
    let finish!: (result: autocannon.Result) => void;
    let fail!: (err: unknown) => void;
    const done = new Promise<autocannon.Result>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const instance = autocannon(
      {
      url: options.url,
      method: 'POST',
      headers: options.headers,
      body: options.body,
      connections: options.connections,
      duration: options.durationMs / 1000,
        timeout: 30,
      },
      (err, result) => (err ? fail(err) : finish(result)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      responses += 1;
      latencies.push(responseTime);
      statuses[String(statusCode)] = (statuses[String(statusCode)] ?? 0) + 1;
    });
    const result = await done;
    const durationMs = nowMs() - started;
    let non2xx = 0;
    for (const [status, count] of Object.entries(statuses)) if (!status.startsWith('2')) non2xx += count;
    return {
      requests: responses,
      durationMs,
      requestsPerSecond: (responses / durationMs) * 1000,
      latencyMs: percentiles(latencies),
      statuses,
      errors: result.errors,
      non2xx,
      sampleFailures: non2xx > 0 ? [`answers by status: ${JSON.stringify(statuses)}`] : [],
    };
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

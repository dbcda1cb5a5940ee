/**
 * The delivery baseline: the worker's own HTTP client (createHttpClient: got with the
 * worker's keep-alive agents, timeouts and stream handling) posting a body of the same size
 * to the same receiver at the same concurrency, and nothing else: no queue, no database, no
 * signing. In a process of its own, as a worker is.
 */
import { createHttpClient } from '../../../apps/worker/src/deliver.js';
import { createTargetGuard } from '../../../apps/worker/src/target-guard.js';
import { serveIpc } from './ipc.js';
import { nowMs } from './clock.js';

export interface RawRunArgs {
  url: string;
  count: number;
  concurrency: number;
  bodyBytes: number;
}

export interface RawRunResult {
  sent: number;
  ok: number;
  errors: number;
  sampleError: string | null;
  startedAt: number;
  endedAt: number;
}

async function run({ url, count, concurrency, bodyBytes }: RawRunArgs): Promise<RawRunResult> {
  // Private targets allowed, as the workers under test run with ALLOW_PRIVATE_TARGETS=true.
  const http = createHttpClient(createTargetGuard({ allowPrivateTargets: true }));
  const body = Buffer.alloc(bodyBytes, 'a');
  let next = 0;
  let ok = 0;
  let errors = 0;
  let sampleError: string | null = null;
  const startedAt = nowMs();
  async function lane() {
    while (next < count) {
      const i = next++;
      const result = await http.send({
        url,
        body,
        headers: { 'Content-Type': 'application/json', 'X-Webhook-Delivery': `raw_${i}` },
        timeoutMs: 10_000,
        followRedirect: true,
        rejectUnauthorized: true,
      });
      if (result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300) ok++;
      else {
        errors++;
        sampleError ??= result.error ?? `status ${result.statusCode}`;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  const endedAt = nowMs();
  http.close();
  return { sent: next, ok, errors, sampleError, startedAt, endedAt };
}

serveIpc({ run: (args) => run(args as RawRunArgs) });
process.send?.({ ready: true });

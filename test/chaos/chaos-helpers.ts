import { expect } from '@jest/globals';
import request from 'supertest';
import type { WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import type { TestApi } from '../support/api.js';

/** Polls until `check` holds; chaos runs take seconds, so 100 ms granularity is plenty. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Emits `count` create:task events for `team` through the real batch route, task ids from `from`. */
export async function emitTaskBatch(api: TestApi, team: number, from: number, count: number): Promise<void> {
  const res = await request(api.app)
    .post('/v1/events/batch')
    .set(api.admin)
    .send({
      events: Array.from({ length: count }, (_, i) => ({
        event: 'create:task',
        team_id: team,
        data: { task: { id: from + i, name: `task ${from + i}` } },
      })),
    });
  expect(res.status).toBe(202);
}

/** SIGTERMs the workers and expects each to exit 0; a worker that did not shows its last output. */
export async function expectCleanStops(workers: readonly WorkerProcess[]): Promise<void> {
  for (const w of workers) w.child.kill('SIGTERM');
  const codes = await Promise.all(workers.map((w) => w.exited));
  const unclean = codes.flatMap((code, i) => (code === 0 ? [] : [`worker ${i} exited ${code}:\n${workers[i]!.output().slice(-3_000)}`]));
  expect(unclean).toEqual([]);
}

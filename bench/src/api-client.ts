import { Agent } from 'node:http';
import { sendOnce } from './load/closed-loop.js';
import { BENCH_ADMIN_TOKEN } from './stack.js';

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** A management call as the admin; throws with the answer when the status is not the one expected. */
export async function adminPost<T>(baseUrl: string, path: string, body: unknown, expect: number): Promise<T> {
  const answer = await sendOnce(
    agent,
    new URL(path, baseUrl),
    { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
    Buffer.from(JSON.stringify(body)),
  );
  if (answer.status !== expect) throw new Error(`POST ${path}: expected ${expect}, got ${answer.status} ${answer.body.slice(0, 500)}`);
  return JSON.parse(answer.body) as T;
}

export function closeApiClient(): void {
  agent.destroy();
}

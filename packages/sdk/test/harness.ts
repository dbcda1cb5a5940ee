import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hooklane } from '../src/index.js';
import { ADMIN_TOKEN, startTestApi, type TestApi } from '../../../test/support/api.js';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';

/** The real API listening on 127.0.0.1 (the SDK speaks HTTP through fetch, not supertest). */
export interface SdkHarness {
  api: TestApi;
  baseUrl: string;
  admin: Hooklane;
  worker?: TestWorker;
  /** A client for a fresh team key. */
  teamClient(teamId: number): Promise<{ client: Hooklane; keyId: string; key: string }>;
  close(): Promise<void>;
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function startSdkHarness(label: string, options: { worker?: boolean } = {}): Promise<SdkHarness> {
  const api = await startTestApi(label);
  const server = createServer(api.app);
  const baseUrl = await listen(server);
  const worker = options.worker ? await startTestWorker({ databaseUrl: api.database.url, prefix: api.prefix }) : undefined;
  const admin = new Hooklane({ baseUrl, token: ADMIN_TOKEN });
  return {
    api,
    baseUrl,
    admin,
    ...(worker ? { worker } : {}),
    async teamClient(teamId) {
      const created = await admin.apiKeys.create({ team_id: teamId });
      return { client: new Hooklane({ baseUrl, token: created.key }), keyId: created.id, key: created.key };
    },
    async close() {
      await worker?.close();
      await closeServer(server);
      await api.close();
    },
  };
}

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A plain receiver that records every request and answers `statusFor(path)` (default 200). */
export async function startRecorder(statusFor: (path: string) => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = statusFor(path);
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
    });
  });
  const origin = await listen(server);
  return { received, origin, close: () => closeServer(server) };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const JOB_DATA = {
  job_id: 789,
  job_name: 'Labeling Job #1',
  project_id: 456,
  dataset_id: 234,
  status: 'completed',
  completed_by: { user_id: 7, user_login: 'annotator' },
};

import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sdkSnippet } from '../../../scripts/dev-sdk-snippet.js';
import { JOB_DATA, startRecorder, startSdkHarness, waitFor, type SdkHarness } from './harness.js';

/** The examples and the SDK snippet `npm run dev` prints, run as users would against a real API. */

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
let h: SdkHarness;
let recorder: Awaited<ReturnType<typeof startRecorder>>;

beforeAll(async () => {
  h = await startSdkHarness('sdkexamples', { worker: true });
  recorder = await startRecorder();
});

afterAll(async () => {
  await recorder?.close();
  await h?.close();
});

function runExample(file: string, env: Record<string, string>) {
  return run(tsx, ['--tsconfig', join(repoRoot, 'examples', 'tsconfig.json'), join(repoRoot, 'examples', file)], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOOKLANE_URL: h.baseUrl, ...env },
  });
}

describe('examples/', () => {
  it('emitting-service.ts emits once per change, batches, and recovers', async () => {
    const { client, key } = await h.teamClient(801);
    const wh = await client.webhooks.create({ team_id: 801, url: `${recorder.origin}/svc`, events: ['*'] });
    const { stdout } = await runExample('emitting-service.ts', { HOOKLANE_KEY: key, TEAM_ID: '801' });
    const lines = stdout.split('\n').filter((l) => l.startsWith('task 42 v3'));
    expect(lines).toHaveLength(2);
    expect(new Set(lines).size).toBe(1); // the repeat got the first event back
    const deliveries = await client.webhooks.deliveries(wh.id).toArray();
    expect(deliveries.map((d) => d.event).sort()).toEqual(['create:task', 'create:task', 'update:task']);
  });

  it('express-receiver.ts receives and handles a real delivery, once', async () => {
    const secret = 'whsec_ZXhhbXBsZS1yZWNlaXZlci1zZWNyZXQtMDE=';
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => probe.once('listening', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const child = spawn(tsx, ['--tsconfig', join(repoRoot, 'examples', 'tsconfig.json'), join(repoRoot, 'examples', 'express-receiver.ts')], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOOKLANE_SECRET: secret, PORT: String(port) },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor('the example receiver to listen', async () => output.includes('receiving on'));
      const { client } = await h.teamClient(804);
      const wh = await client.webhooks.create({ team_id: 804, url: `http://127.0.0.1:${port}/hooks`, events: ['*'], secret });
      const { event_id } = await client.events.emit({ event: 'labeling_job.completed', team_id: 804, project_id: 456, data: JOB_DATA });
      await waitFor('the example to handle it', async () => output.includes('job 789 of project 456 completed'));
      const delivery = await waitFor('the attempt to be recorded', async () => {
        const [d] = await client.webhooks.deliveries(wh.id).toArray();
        return d?.status !== 'pending' && d;
      });
      expect(delivery).toMatchObject({ event_id, status: 'succeeded', last_status_code: 204 });
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('supervisely-style.ts runs every call against the API', async () => {
    const { client, key } = await h.teamClient(802);
    const { stdout } = await runExample('supervisely-style.ts', { HOOKLANE_KEY: key, TEAM_ID: '802' });
    expect(stdout).toMatch(/^test: (delivered|failed)/m);
    expect(await client.webhooks.list({ team_id: 802 }).toArray()).toEqual([]); // it deleted its webhook
  });
});

describe('npm run dev SDK snippet', () => {
  it('is a module that runs as printed: webhook created, event emitted and read back', async () => {
    const { key } = await h.teamClient(803);
    const lines = sdkSnippet({
      apiUrl: h.baseUrl,
      webhookBody: { team_id: 803, url: `${recorder.origin}/dev`, events: ['*'] },
      eventBody: { event: 'labeling_job.completed', team_id: 803, project_id: 456, data: JOB_DATA },
    });
    const dir = await mkdtemp(join(tmpdir(), 'hooklane-snippet-'));
    try {
      await writeFile(join(dir, 'try-sdk.mts'), lines.join('\n'));
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { paths: { '@hooklane/sdk': [join(repoRoot, 'packages', 'sdk', 'src', 'index.ts')] } } }),
      );
      const { stdout } = await run(tsx, ['--tsconfig', 'tsconfig.json', 'try-sdk.mts'], { cwd: dir, env: { PATH: process.env.PATH, KEY: key } });
      expect(stdout).toMatch(/^wh_\S+ \{/);
      expect(stdout).toContain("event: 'labeling_job.completed'");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

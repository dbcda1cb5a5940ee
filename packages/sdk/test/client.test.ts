import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Hooklane, HooklaneError, type Webhook } from '../src/index.js';
import { JOB_DATA, startRecorder, startSdkHarness, waitFor, type SdkHarness } from './harness.js';

/** Every method of the SDK that exists on the API today, against the real API and worker. */

let h: SdkHarness;
let recorder: Awaited<ReturnType<typeof startRecorder>>;
let team = 100;

beforeAll(async () => {
  h = await startSdkHarness('sdkclient', { worker: true });
  recorder = await startRecorder((path) => (path.startsWith('/fail') ? 500 : 200));
});

afterAll(async () => {
  await recorder?.close();
  await h?.close();
});

const hook = (path: string) => `${recorder.origin}${path}`;

describe('webhooks', () => {
  it('create, get, update, delete round-trip the contract objects', async () => {
    const { client } = await h.teamClient(++team);
    const created = await client.webhooks.create({
      team_id: team,
      url: hook('/a'),
      events: ['create:task'],
      retries_count: 8,
    });
    expect(created.secret).toMatch(/^whsec_/);
    expect(created).toMatchObject({ team_id: team, retries_count: 8, retries_delay: 10, is_active: true, project_id: null });

    const got = await client.webhooks.get(created.id);
    expect(got).not.toHaveProperty('secret');
    expect(got.events).toEqual(['create:task']);

    const updated = await client.webhooks.update(created.id, { is_active: false, description: 'paused' });
    expect(updated).toMatchObject({ is_active: false, description: 'paused', retries_count: 8 });

    await expect(client.webhooks.delete(created.id)).resolves.toBeUndefined();
    await expect(client.webhooks.get(created.id)).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('list follows next_cursor over several pages and converts query values', async () => {
    const { client } = await h.teamClient(++team);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const w = await client.webhooks.create({ team_id: team, url: hook(`/l${i}`), action: 'create:task', is_active: i !== 3 });
      ids.push(w.id);
    }
    const pages = [];
    for await (const page of client.webhooks.list({ team_id: team, limit: 3 }).pages()) pages.push(page);
    expect(pages.map((p) => p.data.length)).toEqual([3, 3, 1]);
    expect(pages[2]?.next_cursor).toBeNull();

    const seen: Webhook[] = [];
    for await (const w of client.webhooks.list({ team_id: team, limit: 2 })) seen.push(w);
    expect(seen.map((w) => w.id).sort()).toEqual([...ids].sort());

    const inactive = await client.webhooks.list({ team_id: team, is_active: false }).toArray();
    expect(inactive.map((w) => w.id)).toEqual([ids[3]]);
    const filtered = await client.webhooks
      .list({ filters: [{ field: 'id', operator: 'in', value: [ids[0], ids[5]] }] })
      .toArray();
    expect(filtered.map((w) => w.id).sort()).toEqual([ids[0], ids[5]].sort());
  });

  it('getSecret and rotateSecret', async () => {
    const { client } = await h.teamClient(++team);
    const created = await client.webhooks.create({ team_id: team, url: hook('/s'), events: ['*'], secret: 'plain-secret-1' });
    expect(await client.webhooks.getSecret(created.id)).toEqual({ secret: 'plain-secret-1' });
    const rotated = await client.webhooks.rotateSecret(created.id);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(await client.webhooks.getSecret(created.id)).toEqual(rotated);
    expect(await client.webhooks.rotateSecret(created.id, { secret: 'chosen-secret-2' })).toEqual({ secret: 'chosen-secret-2' });
  });

  it('test sends a signed ping through the worker and reports the answer', async () => {
    const { client } = await h.teamClient(++team);
    const created = await client.webhooks.create({ team_id: team, url: hook('/ping'), events: ['*'] });
    const result = await client.webhooks.test(created.id, { payload: { hello: 'sdk' } });
    expect(result).toMatchObject({ success: true, status_code: 200, response_body: 'ok', error: null });
    const ping = recorder.received.find((r) => r.path === '/ping');
    expect(JSON.parse(ping!.body)).toMatchObject({ event: 'ping', data: { hello: 'sdk' } });
  });
});

describe('events and deliveries', () => {
  it('emit, events.get, deliveries.get with the attempt log, redeliver', async () => {
    const { client } = await h.teamClient(++team);
    const wh = await client.webhooks.create({ team_id: team, url: hook('/e'), events: ['labeling_job.completed'] });
    const accepted = await client.events.emit({ event: 'labeling_job.completed', team_id: team, project_id: 456, data: JOB_DATA });
    expect(accepted.deliveries).toBe(1);

    const event = await client.events.get(accepted.event_id);
    expect(event).toMatchObject({ id: accepted.event_id, event: 'labeling_job.completed', team_id: team, data: JOB_DATA });
    const deliveryId = event.deliveries[0]!.id;
    const delivery = await waitFor('the delivery to succeed', async () => {
      const d = await client.deliveries.get(deliveryId);
      return d.status === 'succeeded' && d;
    });
    expect(delivery.webhook_id).toBe(wh.id);
    expect(delivery.attempt_log[0]).toMatchObject({ attempt: 1, status_code: 200 });

    const again = await client.deliveries.redeliver(deliveryId);
    expect(again).toMatchObject({ event_id: accepted.event_id, webhook_id: wh.id });
    expect(again.id).not.toBe(deliveryId);
  });

  it('emit with the same idempotencyKey twice makes one event', async () => {
    const { client } = await h.teamClient(++team);
    const body = { event: 'labeling_job.completed' as const, team_id: team, data: JOB_DATA };
    const first = await client.events.emit(body, { idempotencyKey: `k-${team}` });
    const second = await client.events.emit(body, { idempotencyKey: `k-${team}` });
    expect(second.event_id).toBe(first.event_id);
    expect((await client.events.emit(body)).event_id).not.toBe(first.event_id);
  });

  it('emitBatch answers per event in input order', async () => {
    const { client } = await h.teamClient(++team);
    const results = await client.events.emitBatch([
      { event: 'labeling_job.completed', team_id: team, data: JOB_DATA },
      { event: 'labeling_job.completed', team_id: team, data: { job_id: 'not a number' } },
    ]);
    expect(results.results).toHaveLength(2);
    expect(results.results[0]).toHaveProperty('event_id');
    expect(results.results[1]).toMatchObject({ error: { code: 'validation_error' } });
  });

  it('webhooks.deliveries pages through a status filter; recover re-sends failures', async () => {
    const { client } = await h.teamClient(++team);
    const wh = await client.webhooks.create({ team_id: team, url: hook('/fail'), events: ['*'], retries_count: 0 });
    const since = new Date(Date.now() - 1000);
    for (let i = 0; i < 5; i++) await client.events.emit({ event: 'labeling_job.completed', team_id: team, data: JOB_DATA });
    const failed = await waitFor('five failed deliveries', async () => {
      const all = await client.webhooks.deliveries(wh.id, { status: 'failed', limit: 2 }).toArray();
      return all.length === 5 && all;
    });
    const pages = [];
    for await (const page of client.webhooks.deliveries(wh.id, { status: 'failed', limit: 2 }).pages()) pages.push(page.data.length);
    expect(pages).toEqual([2, 2, 1]);
    expect(new Set(failed.map((d) => d.id)).size).toBe(5);

    expect(await client.webhooks.recover(wh.id, { since })).toEqual({ count: 5 });
    const pending = await client.webhooks.deliveries(wh.id, {}).toArray();
    expect(pending.length).toBe(10);
  });

  it('eventTypes.list is the catalog', async () => {
    const { data } = await h.admin.eventTypes.list();
    expect(data.map((t) => t.type)).toEqual(expect.arrayContaining(['ping', 'labeling_job.completed', 'create:task']));
  });
});

describe('keys and errors', () => {
  it('apiKeys.revoke makes the key answer 401', async () => {
    const { client, keyId } = await h.teamClient(++team);
    await client.webhooks.list({ team_id: team }).toArray();
    await h.admin.apiKeys.revoke(keyId);
    const err = await waitFor('the revoked key to be refused', () =>
      client.eventTypes.list().then(
        () => false,
        (e: unknown) => e,
      ),
    );
    expect(err).toBeInstanceOf(HooklaneError);
    expect(err).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('non-2xx answers throw HooklaneError with status, code, message and details', async () => {
    const { client } = await h.teamClient(++team);
    const bad = await client.webhooks
      .create({ team_id: team, url: hook('/x'), events: ['*'], retry_count: 3 } as never)
      .then(
        () => undefined,
        (e: unknown) => e as HooklaneError,
      );
    expect(bad).toBeInstanceOf(HooklaneError);
    expect(bad).toMatchObject({ status: 400, code: 'validation_error' });
    expect(bad?.details.map((d) => d.path)).toContain('retry_count');
    expect(bad?.message).toBeTruthy();

    await expect(client.webhooks.create({ team_id: team + 1, url: hook('/x'), events: ['*'] })).rejects.toMatchObject({
      status: 403,
      code: 'forbidden',
    });
    await expect(client.apiKeys.create({ team_id: team })).rejects.toMatchObject({ status: 403 });
    await expect(client.deliveries.get('dlv_nope')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    const stranger = new Hooklane({ baseUrl: h.baseUrl, token: 'hlk_not_a_key' });
    await expect(stranger.events.get('evt_x')).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });
});

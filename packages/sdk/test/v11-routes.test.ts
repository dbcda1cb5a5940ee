import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Hooklane, HooklaneError } from '../src/index.js';
import { JOB_DATA, startSdkHarness, waitFor, type SdkHarness } from './harness.js';

/**
 * The SDK methods of the three v1.1 routes (DELETE /v1/events/:id, DELETE /v1/teams/:team_id,
 * POST /v1/portal-sessions), against the real API.
 */

let h: SdkHarness;
let team = 900;

beforeAll(async () => {
  h = await startSdkHarness('sdkv11');
});

afterAll(async () => {
  await h?.close();
});

describe('events.delete (DELETE /v1/events/:id)', () => {
  it('erases the event and its deliveries; a repeat is 404', async () => {
    const { client } = await h.teamClient(++team);
    await client.webhooks.create({ team_id: team, url: 'http://127.0.0.1:9/hook', events: ['*'] });
    const { event_id } = await client.events.emit({ event: 'labeling_job.completed', team_id: team, data: JOB_DATA });
    const deliveryId = (await client.events.get(event_id)).deliveries[0]!.id;

    await expect(client.events.delete(event_id)).resolves.toBeUndefined();
    await expect(client.events.get(event_id)).rejects.toMatchObject({ status: 404 });
    await expect(client.deliveries.get(deliveryId)).rejects.toMatchObject({ status: 404 });
    const repeat = await client.events.delete(event_id).then(() => undefined, (e: unknown) => e);
    expect(repeat).toBeInstanceOf(HooklaneError);
    expect(repeat).toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('teams.erase (DELETE /v1/teams/:team_id)', () => {
  it('erases everything of the team, says how much, and its keys stop working', async () => {
    const { client } = await h.teamClient(++team);
    const wh = await client.webhooks.create({ team_id: team, url: 'http://127.0.0.1:9/hook', events: ['*'] });
    await client.events.emit({ event: 'labeling_job.completed', team_id: team, data: JOB_DATA });

    expect(await h.admin.teams.erase(team)).toEqual({ webhooks: 1, events: 1, deliveries: 1, api_keys: 1 });
    await expect(h.admin.webhooks.get(wh.id)).rejects.toMatchObject({ status: 404 });
    await waitFor('the erased team key to be refused', () =>
      client.eventTypes.list().then(
        () => false,
        (e: unknown) => e instanceof HooklaneError && e.status === 401,
      ),
    );
    expect(await h.admin.teams.erase(team)).toEqual({ webhooks: 0, events: 0, deliveries: 0, api_keys: 0 });
  });

  it('is admin only', async () => {
    const { client } = await h.teamClient(++team);
    await expect(client.teams.erase(team)).rejects.toMatchObject({ status: 403 });
  });
});

describe('portal.createSession (POST /v1/portal-sessions)', () => {
  it('gives a token, a dashboard url and an expiry; the token reads the team and nothing else', async () => {
    const { client } = await h.teamClient(++team);
    const wh = await client.webhooks.create({ team_id: team, url: 'http://127.0.0.1:9/hook', events: ['*'] });
    const session = await client.portal.createSession({ team_id: team, expires_in: 600 });
    expect(session.url.endsWith(`/portal#token=${session.token}`)).toBe(true);
    const expiresIn = (Date.parse(session.expires_at) - Date.now()) / 1000;
    expect(expiresIn).toBeGreaterThan(500);
    expect(expiresIn).toBeLessThanOrEqual(601);

    const portal = new Hooklane({ baseUrl: h.baseUrl, token: session.token });
    expect((await portal.webhooks.list({ team_id: team }).toArray()).map((w) => w.id)).toEqual([wh.id]);
    await expect(portal.events.emit({ event: 'labeling_job.completed', team_id: team, data: JOB_DATA })).rejects.toMatchObject({
      status: 403,
    });
    await expect(portal.portal.createSession({ team_id: team })).rejects.toMatchObject({ status: 403 });
    await expect(client.portal.createSession({ team_id: team + 1 })).rejects.toMatchObject({ status: 403 });
  });

  it('read_only sessions may only read', async () => {
    const session = await h.admin.portal.createSession({ team_id: ++team, read_only: true });
    const portal = new Hooklane({ baseUrl: h.baseUrl, token: session.token });
    await expect(portal.webhooks.list({ team_id: team }).toArray()).resolves.toEqual([]);
    await expect(portal.webhooks.create({ team_id: team, url: 'http://127.0.0.1:9/hook', events: ['*'] })).rejects.toMatchObject({
      status: 403,
    });
  });
});

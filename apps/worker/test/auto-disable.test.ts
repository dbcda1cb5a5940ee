import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { verifyStandardWebhook } from '@hooklane/core';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { eventually } from './fixtures.js';
import { startReceiver, type ReceivedRequest, type Receiver } from './receiver.js';

// The service turns a webhook off on its own in two cases (410 Gone; every delivery failing
// for AUTO_DISABLE_AFTER_MS, shrunk here to 2 s), tells the team's webhooks subscribed to
// `webhook.disabled`, and PATCH {"is_active": true} brings it back. End to end: API in,
// real worker, real receivers.

const AUTO_DISABLE_AFTER_MS = 2_000;

let api: TestApi;
let worker: TestWorker;
let receiver: Receiver;
const statusFor = new Map<string, number>();
let team = 60;

beforeAll(async () => {
  api = await startTestApi('wautodisable');
  worker = await startTestWorker({
    databaseUrl: api.database.url,
    prefix: api.prefix,
    env: { AUTO_DISABLE_AFTER_MS: String(AUTO_DISABLE_AFTER_MS) },
  });
  receiver = await startReceiver((req, res) => {
    const status = statusFor.get(req.path) ?? 200;
    res.writeHead(status).end(status === 410 ? 'gone for good' : 'noted');
  });
});

afterAll(async () => {
  await worker?.close();
  await receiver?.close();
  await api?.close();
});

interface Hook {
  id: string;
  secret: string;
}

async function createWebhook(body: Record<string, unknown>): Promise<Hook> {
  const res = await request(api.app).post('/v1/webhooks').set(api.admin).send(body);
  expect(res.status).toBe(201);
  return { id: res.body.id, secret: res.body.secret };
}

async function emit(teamId: number): Promise<void> {
  const res = await request(api.app)
    .post('/v1/events')
    .set(api.admin)
    .send({ event: 'create:task', team_id: teamId, data: { task: { id: 1, name: 'cats' } } });
  expect(res.status).toBe(202);
}

async function getWebhook(id: string) {
  const res = await request(api.app).get(`/v1/webhooks/${id}`).set(api.admin);
  expect(res.status).toBe(200);
  return res.body as { is_active: boolean; disabled_reason: string | null };
}

async function waitForDisabled(id: string) {
  return eventually(async () => {
    const webhook = await getWebhook(id);
    return webhook.is_active ? undefined : webhook;
  }, 30_000, `webhook ${id} to be disabled`);
}

function announcements(path: string): ReceivedRequest[] {
  return receiver.to(path).filter((r) => r.headers['x-webhook-event'] === 'webhook.disabled');
}

/** A team with watchers around the webhook under test: who must hear of it and who must not. */
async function teamWithWatchers(label: string) {
  team += 1;
  const watchers = {
    // Subscribed by name, and through "*": both hear of it.
    byName: await createWebhook({ team_id: team, url: `${receiver.origin}/${label}/watch-name`, events: ['webhook.disabled'] }),
    all: await createWebhook({ team_id: team, url: `${receiver.origin}/${label}/watch-all`, events: ['*'] }),
    // Not subscribed to it, or another team's: they do not.
    unsubscribed: await createWebhook({ team_id: team, url: `${receiver.origin}/${label}/unsubscribed`, events: ['delete:task'] }),
    otherTeam: await createWebhook({ team_id: team + 1000, url: `${receiver.origin}/${label}/other-team`, events: ['webhook.disabled'] }),
  };
  return { team, watchers };
}

async function expectAnnounced(label: string, watchers: { byName: Hook; all: Hook }, webhookId: string, reason: string) {
  await eventually(
    async () => (announcements(`/${label}/watch-name`).length > 0 && announcements(`/${label}/watch-all`).length > 0 ? true : undefined),
    20_000,
    'webhook.disabled to reach the subscribed webhooks',
  );
  for (const [path, hook] of [
    [`/${label}/watch-name`, watchers.byName],
    [`/${label}/watch-all`, watchers.all],
  ] as const) {
    const [announcement, ...more] = announcements(path);
    expect(more).toHaveLength(0);
    const envelope = JSON.parse(announcement!.body.toString('utf8'));
    expect(envelope).toMatchObject({ event: 'webhook.disabled', team_id: team, data: { webhook_id: webhookId, reason } });
    // Signed like any other delivery, with the watcher's own secret.
    const headers = announcement!.headers as Record<string, string>;
    expect(
      verifyStandardWebhook({
        secret: hook.secret,
        body: announcement!.body,
        headers: {
          'webhook-id': headers['webhook-id']!,
          'webhook-timestamp': headers['webhook-timestamp']!,
          'webhook-signature': headers['webhook-signature']!,
        },
      }),
    ).toBe(true);
    // Recorded as an event of the team, with the deliveries it made.
    const event = await request(api.app).get(`/v1/events/${envelope.id}`).set(api.admin);
    expect(event.status).toBe(200);
    expect(event.body.event).toBe('webhook.disabled');
    expect(event.body.deliveries.map((d: { webhook_id: string }) => d.webhook_id).sort()).toEqual(
      [watchers.byName.id, watchers.all.id].sort(),
    );
  }
  expect(announcements(`/${label}/unsubscribed`)).toHaveLength(0);
  expect(announcements(`/${label}/other-team`)).toHaveLength(0);
}

async function expectFlowsAgainAfterReEnable(hook: Hook, path: string, teamId: number) {
  statusFor.set(path, 200);
  const patched = await request(api.app).patch(`/v1/webhooks/${hook.id}`).set(api.admin).send({ is_active: true });
  expect(patched.status).toBe(200);
  expect(patched.body).toMatchObject({ is_active: true, disabled_reason: null });
  const before = receiver.to(path).length;
  await emit(teamId);
  await eventually(async () => {
    const res = await request(api.app).get(`/v1/webhooks/${hook.id}/deliveries`).set(api.admin);
    return res.body.data[0]?.status === 'succeeded' ? true : undefined;
  }, 20_000, 'the delivery after re-enabling to succeed');
  expect(receiver.to(path).length).toBe(before + 1);
}

describe('auto-disable and webhook.disabled', () => {
  it('410 Gone ends the retries at once, disables with "gone", tells the subscribers; re-enabling lets deliveries flow', async () => {
    const { team: teamId, watchers } = await teamWithWatchers('gone');
    statusFor.set('/gone/target', 410);
    const target = await createWebhook({
      team_id: teamId,
      url: `${receiver.origin}/gone/target`,
      events: ['create:task'],
      retries_count: 5,
      retries_delay: 1,
    });
    await emit(teamId);

    const disabled = await waitForDisabled(target.id);
    expect(disabled.disabled_reason).toBe('gone');
    const deliveries = await request(api.app).get(`/v1/webhooks/${target.id}/deliveries`).set(api.admin);
    expect(deliveries.body.data).toHaveLength(1);
    expect(deliveries.body.data[0]).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410 });
    await expectAnnounced('gone', watchers, target.id, 'gone');
    // No retry after a 410, and the disabled webhook is not told about itself.
    expect(receiver.to('/gone/target')).toHaveLength(1);

    await expectFlowsAgainAfterReEnable(target, '/gone/target', teamId);
  });

  it('failing on every delivery for AUTO_DISABLE_AFTER_MS disables with "failing" and tells the subscribers', async () => {
    const { team: teamId, watchers } = await teamWithWatchers('failing');
    statusFor.set('/failing/target', 500);
    const target = await createWebhook({
      team_id: teamId,
      url: `${receiver.origin}/failing/target`,
      events: ['create:task'],
      retries_count: 20,
      retries_delay: 1,
    });
    const startedAt = Date.now();
    await emit(teamId);

    const disabled = await waitForDisabled(target.id);
    expect(disabled.disabled_reason).toBe('failing');
    // Not before AUTO_DISABLE_AFTER_MS of failures, and well before the retries ran out.
    const attempts = receiver.to('/failing/target');
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThan(21);
    expect(attempts.at(-1)!.at - attempts[0]!.at).toBeGreaterThanOrEqual(AUTO_DISABLE_AFTER_MS - 100);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(AUTO_DISABLE_AFTER_MS);
    await expectAnnounced('failing', watchers, target.id, 'failing');
    // The retry still scheduled is dropped, not sent.
    await eventually(async () => {
      const res = await request(api.app).get(`/v1/webhooks/${target.id}/deliveries`).set(api.admin);
      return res.body.data[0]?.status === 'cancelled' ? true : undefined;
    }, 20_000, 'the pending retry to be cancelled');
    expect(receiver.to('/failing/target')).toHaveLength(attempts.length);

    await expectFlowsAgainAfterReEnable(target, '/failing/target', teamId);
  });
});

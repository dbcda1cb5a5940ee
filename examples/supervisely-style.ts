/**
 * Supervisely's webhook calls (its Python SDK, `api.webhook.*`) next to their Hooklane SDK
 * form. Field names are the same (team_id, url, action, retries_count, retries_delay,
 * follow_redirect, reject_unauthorized, headers), so a migration is mostly syntax.
 *
 *   HOOKLANE_URL=http://127.0.0.1:3000 HOOKLANE_KEY=hlk_... npx tsx --tsconfig examples/tsconfig.json examples/supervisely-style.ts
 */
import { Hooklane } from '@hooklane/sdk';

const api = new Hooklane({ baseUrl: process.env.HOOKLANE_URL ?? 'http://127.0.0.1:3000', token: process.env.HOOKLANE_KEY ?? 'dev-admin-token' });
const teamId = Number(process.env.TEAM_ID ?? 1);

// Python:  webhook = api.webhook.create(team_id=team_id, url="https://example.com/hook",
//                                       action=sly.LABELING_JOB_COMPLETED, retries_count=3,
//                                       retries_delay=10, follow_redirect=True,
//                                       reject_unauthorized=True, headers={"X-Api-Key": "abc"})
const webhook = await api.webhooks.create({
  team_id: teamId,
  url: 'https://example.com/hook',
  action: 'labeling_job.completed',
  retries_count: 3,
  retries_delay: 10,
  follow_redirect: true,
  reject_unauthorized: true,
  headers: { 'X-Api-Key': 'abc' },
});

// Python:  api.webhook.get_list(team_id, filters=[{"field": "action", "operator": "=", "value": ...}])
for await (const w of api.webhooks.list({
  team_id: teamId,
  filters: [{ field: 'event', operator: '=', value: 'labeling_job.completed' }],
})) {
  console.log(w.id, w.url, w.events, w.is_active);
}

// Python:  api.webhook.get_info_by_id(webhook.id)
const info = await api.webhooks.get(webhook.id);

// Python:  api.webhook.update(webhook.id, retries_count=5, url="https://example.com/v2")
await api.webhooks.update(info.id, { retries_count: 5, url: 'https://example.com/v2' });

// Python:  api.webhook.test(webhook.id)
const ping = await api.webhooks.test(webhook.id, { payload: { hello: 'from the SDK' } });
console.log(`test: ${ping.success ? 'delivered' : `failed (${ping.error ?? ping.status_code})`}`);

// Python:  api.webhook.remove(webhook.id)
await api.webhooks.delete(webhook.id);

// Hooklane only: the emitting side, which Supervisely does internally.
//   curl -X POST $HOOKLANE/v1/events -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
//     -d '{"event":"labeling_job.completed","team_id":1,"data":{...}}'
await api.events.emit({
  event: 'labeling_job.completed',
  team_id: teamId,
  project_id: 456,
  data: {
    job_id: 789,
    job_name: 'Labeling Job #1',
    project_id: 456,
    dataset_id: 234,
    status: 'completed',
    completed_by: { user_id: 7, user_login: 'annotator' },
  },
});

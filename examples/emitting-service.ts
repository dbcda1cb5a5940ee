/**
 * The platform side: a service that owns "tasks" and tells Hooklane whenever one changes.
 *
 *   HOOKLANE_URL=http://127.0.0.1:3000 HOOKLANE_KEY=hlk_... TEAM_ID=1 npx tsx --tsconfig examples/tsconfig.json examples/emitting-service.ts
 *
 * (`npm run dev` prints a team key; an admin token works too.)
 */
import { Hooklane, HooklaneError } from '@hooklane/sdk';

const hl = new Hooklane({
  baseUrl: process.env.HOOKLANE_URL ?? 'http://127.0.0.1:3000',
  token: process.env.HOOKLANE_KEY ?? 'dev-admin-token',
  timeoutMs: 5_000,
  retries: 4, // tries in all on 503 / network errors, for emits only
});
const teamId = Number(process.env.TEAM_ID ?? 1);

interface Task {
  id: number;
  projectId: number;
  name: string;
  version: number;
}

/**
 * Called by the service after its own transaction committed. The idempotency key is derived
 * from the change itself, so if this process crashes and the caller repeats the call, the
 * second emit returns the first one's answer instead of notifying everyone twice.
 */
async function taskUpdated(task: Task): Promise<string> {
  const { event_id, deliveries } = await hl.events.emit(
    {
      event: 'update:task',
      team_id: teamId,
      project_id: task.projectId,
      data: { task: { id: task.id, name: task.name, project_id: task.projectId }, before_update: {} },
      sender: { service: 'tasks', version: task.version },
    },
    { idempotencyKey: `task-${task.id}-v${task.version}` },
  );
  console.log(`task ${task.id} v${task.version}: event ${event_id}, ${deliveries} delivery(ies)`);
  return event_id;
}

/** Many changes at once (an import, say): one request, one result per event. */
async function tasksImported(tasks: Task[]): Promise<void> {
  const { results } = await hl.events.emitBatch(
    tasks.map((task) => ({ event: 'create:task', team_id: teamId, project_id: task.projectId, data: { task: { id: task.id, name: task.name } } })),
  );
  results.forEach((result, i) => {
    if ('error' in result) console.warn(`task ${tasks[i]?.id} was refused: ${result.error.message}`);
  });
}

/** A nightly job: send again whatever failed in the last day, webhook by webhook. */
async function recoverFailures(): Promise<void> {
  const since = new Date(Date.now() - 24 * 3600 * 1000);
  for await (const webhook of hl.webhooks.list({ team_id: teamId, is_active: true })) {
    const { count } = await hl.webhooks.recover(webhook.id, { since });
    if (count) console.log(`${webhook.url}: ${count} failed delivery(ies) sent again`);
  }
}

try {
  await taskUpdated({ id: 42, projectId: 7, name: 'Cats', version: 3 });
  await taskUpdated({ id: 42, projectId: 7, name: 'Cats', version: 3 }); // same event_id: nothing sent twice
  await tasksImported([
    { id: 43, projectId: 7, name: 'Dogs', version: 1 },
    { id: 44, projectId: 7, name: 'Birds', version: 1 },
  ]);
  await recoverFailures();
} catch (err) {
  if (!(err instanceof HooklaneError)) throw err;
  // status 0: the API could not be reached (code network_error or timeout) even after the retries.
  console.error(`Hooklane said ${err.status} ${err.code}: ${err.message}`, err.details);
  process.exitCode = 1;
}

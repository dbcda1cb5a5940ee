/**
 * The receiver side: an Express app that takes Hooklane deliveries.
 *
 *   HOOKLANE_SECRET=whsec_... PORT=4000 npx tsx --tsconfig examples/tsconfig.json examples/express-receiver.ts
 *
 * Point a webhook at http://127.0.0.1:4000/hooks with the same secret (under `npm run dev`,
 * the printed DEV_WEBHOOK_SECRET).
 */
import express from 'express';
import { hooklaneReceiver, type WebhookEnvelope } from '@hooklane/sdk';

const app = express();
// Rotating your secret? Give both until the old one is gone: { secrets: [newSecret, oldSecret] }.
const secrets = [process.env.HOOKLANE_SECRET, process.env.HOOKLANE_OLD_SECRET].filter((s): s is string => Boolean(s));
if (secrets.length === 0) throw new Error('set HOOKLANE_SECRET');

// Delivery is at least once: the same event (same `id`, the webhook-id header) may come twice.
const seen = new Set<string>();

function handle(event: WebhookEnvelope): void {
  switch (event.event) {
    case 'labeling_job.completed':
      console.log(`job ${String(event.data.job_id)} of project ${event.project_id} completed`);
      break;
    case 'webhook.disabled':
      console.warn('Hooklane turned one of our webhooks off:', event.data);
      break;
    default:
      console.log(`${event.event} for team ${event.team_id}`, event.data);
  }
}

// hooklaneReceiver reads the raw body itself, so no express.json() before it on this route.
app.post('/hooks', hooklaneReceiver({ secrets }), (req, res) => {
  const event = req.hooklaneEvent!;
  if (!seen.has(event.id)) {
    seen.add(event.id);
    handle(event);
  }
  res.sendStatus(204); // answer fast; do slow work after (a 2xx is what stops the retries)
});

// The rest of the app may parse JSON as usual.
app.use(express.json());

const port = Number(process.env.PORT ?? 4000);
app.listen(port, '127.0.0.1', () => console.log(`receiving on http://127.0.0.1:${port}/hooks`));

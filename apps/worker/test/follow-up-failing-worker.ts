// A worker process (for record-failure-by-handoff.test.ts) whose follow-up after an attempt is
// slow the first time and fails the second: the second record fails while the first is still
// being written by the same job. Run with DATABASE_URL and QUEUE_PREFIX set.
import { startTestWorker } from '../../../test/support/worker.js';

let outcomes = 0;
const worker = await startTestWorker({
  databaseUrl: process.env.DATABASE_URL!,
  prefix: process.env.QUEUE_PREFIX!,
  env: { MAX_IN_FLIGHT_PER_WEBHOOK: '1', WORKER_CONCURRENCY: '5' },
  policies: {
    async afterAttempt() {
      outcomes++;
      console.log(JSON.stringify({ follow_up: outcomes }));
      if (outcomes === 1) await new Promise((resolve) => setTimeout(resolve, 500));
      else if (outcomes === 2) throw new Error('follow-up failed');
    },
  },
});
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
console.log('"worker started"');

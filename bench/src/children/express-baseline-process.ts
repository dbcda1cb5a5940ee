/**
 * The floor for ingest: Express with a JSON body parser answering 202, nothing else. Same
 * framework, same body limit and the same kind of child process as the API, so the ratio
 * shows what Hooklane's own work (auth, validation, the transaction, the enqueue) costs.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ limit: '1mb' }));
let counter = 0;
app.post('/v1/events', (req, res) => {
  counter++;
  res.status(202).json({ event_id: `evt_${counter}`, deliveries: req.body ? 1 : 0 });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

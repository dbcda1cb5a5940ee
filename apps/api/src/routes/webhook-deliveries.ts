import { enqueueCreated } from '@hooklane/db';
import { Router } from 'express';
import {
  deliveryPageSchema,
  listDeliveriesQuerySchema,
  recoverInputSchema,
  recoverResultSchema,
  testInputSchema,
  testResultSchema,
} from '../deliveries/delivery-schemas.js';
import { assertWebhookReceives, listWebhookDeliveries, recoverWebhook } from '../deliveries/queries.js';
import { toDeliveryResponse } from '../deliveries/serialize.js';
import { sendTestPing } from '../deliveries/test-ping.js';
import type { AppDeps } from '../deps.js';
import { authOf } from '../http/auth.js';
import { badRequest, methodNotAllowed } from '../http/errors.js';
import { unstorableJsonDetail } from '../ingest/storable-json.js';
import { errorResponses, errorSchema, registerRoute } from '../openapi/registry.js';
import { findWebhookForAuth } from '../webhooks/find.js';
import { parseInput } from '../webhooks/parse-input.js';

const tags = ['Webhooks'];

registerRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/test',
  summary: 'Send one signed `ping` now and report how the receiver answered',
  description:
    'Goes through a delivery worker like any delivery (same signatures and address rules), with one attempt ' +
    'and no retries. Waits up to the webhook timeout plus 10 s for the outcome, else answers 504 `timeout`.',
  tags,
  body: testInputSchema,
  responses: {
    200: { description: 'The outcome of the attempt (also when the receiver failed)', schema: testResultSchema },
    ...errorResponses(400, 401, 404, 409, 413, 415, 503),
    504: { description: 'No worker made the attempt in time', schema: errorSchema },
  },
});
registerRoute({
  method: 'get',
  path: '/v1/webhooks/{id}/deliveries',
  summary: "List a webhook's deliveries, newest first",
  tags,
  query: listDeliveriesQuerySchema,
  responses: { 200: { description: 'One page', schema: deliveryPageSchema }, ...errorResponses(400, 401, 404) },
});
registerRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/recover',
  summary: 'Send again every event whose delivery to this webhook failed since a time',
  description:
    'Each such event gets one new pending delivery (the failed ones stay as the record of what happened). ' +
    'Events already pending or delivered again since, and test pings, are skipped.',
  tags,
  body: recoverInputSchema,
  responses: {
    202: { description: 'New deliveries queued', schema: recoverResultSchema },
    ...errorResponses(400, 401, 404, 409, 413, 415, 503),
  },
});

export function webhookDeliveriesRoutes(deps: AppDeps): Router {
  const { db } = deps;
  const router = Router();

  router
    .route('/webhooks/:id/test')
    .post(async (req, res) => {
      const webhook = await findWebhookForAuth(db, authOf(res), req.params.id);
      const { payload } = parseInput(testInputSchema, req.body ?? {});
      const problem = payload === undefined ? undefined : unstorableJsonDetail(payload, 'payload');
      if (problem) throw badRequest('Request body is invalid', [problem]);
      // Stop waiting when the client hangs up; the ping itself still goes out.
      const gone = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      const result = await sendTestPing(deps, webhook, payload, gone.signal);
      if (result) res.json(result);
    })
    .all(methodNotAllowed);

  router
    .route('/webhooks/:id/deliveries')
    .get(async (req, res) => {
      const webhook = await findWebhookForAuth(db, authOf(res), req.params.id);
      const query = parseInput(listDeliveriesQuerySchema, req.query, 'Query');
      const page = await listWebhookDeliveries(db, webhook.id, query);
      res.json({ data: page.rows.map(toDeliveryResponse), next_cursor: page.nextCursor });
    })
    .all(methodNotAllowed);

  router
    .route('/webhooks/:id/recover')
    .post(async (req, res) => {
      const webhook = await findWebhookForAuth(db, authOf(res), req.params.id);
      const { since } = parseInput(recoverInputSchema, req.body);
      assertWebhookReceives(webhook);
      const created = await recoverWebhook(db, webhook, new Date(since));
      await enqueueCreated(deps.outbox, deps.logger, created);
      res.status(202).json({ count: created.length });
    })
    .all(methodNotAllowed);

  return router;
}

import { enqueueCreated } from '@hooklane/db';
import { Router } from 'express';
import { deliveryDetailSchema, deliveryResponseSchema } from '../deliveries/delivery-schemas.js';
import {
  assertWebhookReceives,
  createRedelivery,
  findAttempts,
  findDeliveryForAuth,
} from '../deliveries/queries.js';
import { toAttemptResponse, toDeliveryResponse } from '../deliveries/serialize.js';
import type { AppDeps } from '../deps.js';
import { authOf } from '../http/auth.js';
import { methodNotAllowed } from '../http/errors.js';
import { errorResponses, registerRoute } from '../openapi/registry.js';

const tags = ['Deliveries'];

registerRoute({
  method: 'get',
  path: '/v1/deliveries/{id}',
  summary: 'Get a delivery with the log of its attempts',
  tags,
  responses: { 200: { description: 'The delivery', schema: deliveryDetailSchema }, ...errorResponses(401, 404) },
});
registerRoute({
  method: 'post',
  path: '/v1/deliveries/{id}/redeliver',
  summary: 'Send the same event to the same webhook again, as a new delivery',
  description: 'The original delivery is left as it was; the new one starts pending with its own id and attempts.',
  tags,
  responses: {
    202: { description: 'The new delivery, queued', schema: deliveryResponseSchema },
    ...errorResponses(401, 404, 409, 503),
  },
});

export function deliveriesRoutes(deps: AppDeps): Router {
  const { db } = deps;
  const router = Router();

  router
    .route('/deliveries/:id')
    .get(async (req, res) => {
      const delivery = await findDeliveryForAuth(db, authOf(res), req.params.id);
      const attempts = await findAttempts(db, delivery.id);
      res.json({ ...toDeliveryResponse(delivery), attempt_log: attempts.map(toAttemptResponse) });
    })
    .all(methodNotAllowed);

  router
    .route('/deliveries/:id/redeliver')
    .post(async (req, res) => {
      const original = await findDeliveryForAuth(db, authOf(res), req.params.id);
      assertWebhookReceives(original.webhook);
      const delivery = await createRedelivery(db, original);
      await enqueueCreated(deps.outbox, deps.logger, [delivery]);
      res.status(202).json(toDeliveryResponse(delivery));
    })
    .all(methodNotAllowed);

  return router;
}

import { callOperation, toQuery } from '../call.js';
import { PageIterator } from '../pagination.js';
import type { CallOptions, TransportOptions } from '../transport.js';
import type {
  CreatedWebhook,
  Delivery,
  RecoverResult,
  TestPingInput,
  TestPingResult,
  Webhook,
  WebhookCreate,
  WebhookDeliveriesQuery,
  WebhookListQuery,
  WebhookSecret,
  WebhookUpdate,
} from '../types.js';

/** `hl.webhooks`: the `/v1/webhooks` routes. */
export class Webhooks {
  constructor(private readonly transport: TransportOptions) {}

  /** `POST /v1/webhooks`; the answer alone carries `secret`. */
  create(body: WebhookCreate, options?: CallOptions): Promise<CreatedWebhook> {
    return callOperation(this.transport, 'POST /v1/webhooks', { body }, options);
  }

  get(id: string, options?: CallOptions): Promise<Webhook> {
    return callOperation(this.transport, 'GET /v1/webhooks/{id}', { params: { id } }, options);
  }

  /** `PATCH`: only the fields given change. */
  update(id: string, body: WebhookUpdate, options?: CallOptions): Promise<Webhook> {
    return callOperation(this.transport, 'PATCH /v1/webhooks/{id}', { params: { id }, body }, options);
  }

  /** Deletes the webhook; its pending deliveries are cancelled. */
  delete(id: string, options?: CallOptions): Promise<void> {
    return callOperation(this.transport, 'DELETE /v1/webhooks/{id}', { params: { id } }, options);
  }

  /** Every matching webhook, following `next_cursor` page by page. */
  list(query: WebhookListQuery = {}, options?: CallOptions): PageIterator<Webhook> {
    return new PageIterator((cursor) =>
      callOperation(this.transport, 'GET /v1/webhooks', { query: toQuery({ ...query, cursor }) }, options),
    );
  }

  /** One signed `ping` delivery now, no retries; answers what the receiver said. */
  test(id: string, body: TestPingInput = {}, options?: CallOptions): Promise<TestPingResult> {
    return callOperation(this.transport, 'POST /v1/webhooks/{id}/test', { params: { id }, body }, options);
  }

  getSecret(id: string, options?: CallOptions): Promise<WebhookSecret> {
    return callOperation(this.transport, 'GET /v1/webhooks/{id}/secret', { params: { id } }, options);
  }

  /** New secret (given, or generated); for 24 hours deliveries are signed with both. */
  rotateSecret(id: string, body: { secret?: string } = {}, options?: CallOptions): Promise<WebhookSecret> {
    return callOperation(this.transport, 'POST /v1/webhooks/{id}/secret/rotate', { params: { id }, body }, options);
  }

  /** Delivers again every failed delivery of this webhook since `since`. */
  recover(id: string, body: { since: string | Date }, options?: CallOptions): Promise<RecoverResult> {
    const since = body.since instanceof Date ? body.since.toISOString() : body.since;
    return callOperation(this.transport, 'POST /v1/webhooks/{id}/recover', { params: { id }, body: { since } }, options);
  }

  /** This webhook's deliveries, newest first, following `next_cursor`. */
  deliveries(id: string, query: WebhookDeliveriesQuery = {}, options?: CallOptions): PageIterator<Delivery> {
    return new PageIterator((cursor) =>
      callOperation(
        this.transport,
        'GET /v1/webhooks/{id}/deliveries',
        { params: { id }, query: toQuery({ ...query, cursor }) },
        options,
      ),
    );
  }
}

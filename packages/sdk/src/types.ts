/**
 * The contract's JSON objects, named for SDK users. Every one comes from
 * src/generated/openapi.ts, generated from the API's own OpenAPI document.
 */
import type * as Api from './generated/openapi.js';

export type Webhook = Api.Webhook;
export type CreatedWebhook = Api.CreatedWebhook;
export type WebhookCreate = Api.WebhookCreate;
export type WebhookUpdate = Api.WebhookUpdate;
export type WebhookSecret = Api.WebhookSecret;
export type TestPingInput = Api.TestPingInput;
export type TestPingResult = Api.TestPingResult;
export type RecoverInput = Api.RecoverInput;
export type RecoverResult = Api.RecoverResult;
export type Delivery = Api.Delivery;
export type DeliveryWithAttempts = Api.DeliveryWithAttempts;
export type Attempt = Api.Attempt;
export type EventInput = Api.EventInput;
export type EventAccepted = Api.EventAccepted;
export type EventBatchResult = Api.EventBatchResult;
export type Event = Api.Event;
export type EventTypeList = Api.EventTypeList;
export type EventType = EventTypeList['data'][number];
export type ApiKey = Api.ApiKey;
export type ApiKeyCreate = Api.ApiKeyCreate;
/** (v1.1) `POST /v1/portal-sessions` body. */
export type PortalSessionCreate = Api.PortalSessionCreate;
/** (v1.1) A portal session: `url` opens the dashboard on it. */
export type PortalSession = Api.PortalSession;
/** (v1.1) What `DELETE /v1/teams/:team_id` erased. */
export type TeamErasure = Api.ErasedTeam;
export type ErrorBody = Api.Error;
export type Operations = Api.Operations;

/** Query values as the SDK takes them: numbers and booleans are sent as their text. */
type Loose<Q> = { [K in keyof Q]?: Q[K] | number | boolean };

export type WebhookFilter = { field: string; operator: '=' | '!=' | 'in'; value: unknown };
export type WebhookListQuery = Omit<Loose<Operations['GET /v1/webhooks']['query']>, 'cursor' | 'filters'> & {
  /** Supervisely-style filters, as objects (the SDK JSON-encodes them) or already encoded. */
  filters?: WebhookFilter[] | string;
};
export type WebhookDeliveriesQuery = Omit<Loose<Operations['GET /v1/webhooks/{id}/deliveries']['query']>, 'cursor'>;

// The fields of each object this SDK was written and documented against. If the API gains
// (or loses) a field, the regenerated types no longer match these lists and the SDK stops
// compiling here until someone has looked at what the new field means for its users.
const KNOWN_FIELDS = {
  Webhook: ['id', 'team_id', 'project_id', 'url', 'events', 'headers', 'retries_count', 'retries_delay', 'retry_backoff',
    'follow_redirect', 'reject_unauthorized', 'timeout', 'content_type', 'description', 'is_active', 'rate_limit',
    'ordering', 'last_status', 'last_delivery_at', 'disabled_reason', 'created_at', 'updated_at'],
  WebhookCreate: ['team_id', 'url', 'events', 'action', 'project_id', 'headers', 'secret', 'retries_count',
    'retries_delay', 'retry_backoff', 'follow_redirect', 'reject_unauthorized', 'timeout', 'content_type',
    'description', 'is_active', 'rate_limit', 'ordering'],
  Delivery: ['id', 'webhook_id', 'event_id', 'event', 'status', 'attempts', 'last_status_code', 'next_attempt_at',
    'created_at', 'updated_at'],
  Attempt: ['attempt', 'started_at', 'duration_ms', 'status_code', 'response_body', 'error'],
  EventInput: ['event', 'team_id', 'project_id', 'data', 'timestamp', 'sender', 'idempotency_key', 'ordering_key'],
  Event: ['id', 'event', 'team_id', 'project_id', 'timestamp', 'data', 'sender', 'ordering_key', 'created_at', 'deliveries'],
  TestPingResult: ['delivery_id', 'success', 'status_code', 'response_body', 'duration_ms', 'error'],
  PortalSessionCreate: ['team_id', 'project_id', 'expires_in', 'read_only'],
  PortalSession: ['token', 'url', 'expires_at'],
  TeamErasure: ['webhooks', 'events', 'deliveries', 'api_keys'],
} as const;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Known<K extends keyof typeof KNOWN_FIELDS> = (typeof KNOWN_FIELDS)[K][number];
/** Compile-time only: each line is `true` exactly when the generated type has the listed fields. */
export type FieldsCheck = [
  Same<keyof Webhook, Known<'Webhook'>>,
  Same<keyof WebhookCreate, Known<'WebhookCreate'>>,
  Same<keyof Delivery, Known<'Delivery'>>,
  Same<keyof Attempt, Known<'Attempt'>>,
  Same<keyof EventInput, Known<'EventInput'>>,
  Same<keyof Event, Known<'Event'>>,
  Same<keyof TestPingResult, Known<'TestPingResult'>>,
  Same<keyof PortalSessionCreate, Known<'PortalSessionCreate'>>,
  Same<keyof PortalSession, Known<'PortalSession'>>,
  Same<keyof TeamErasure, Known<'TeamErasure'>>,
];
const fieldsCheck: FieldsCheck = [true, true, true, true, true, true, true, true, true, true];
void fieldsCheck;

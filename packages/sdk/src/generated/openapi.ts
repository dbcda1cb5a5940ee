// Generated from the Hooklane API's OpenAPI document by packages/sdk/scripts/generate-types.ts.
// Do not edit: packages/sdk/test/generated-types.test.ts fails when this file and the API differ.
/* eslint-disable */

export type ApiKeyCreate = {
  /** The emitting platform's team id */
  team_id: number;
};

export type EventInput = {
  /** A type from GET /v1/event-types */
  event: "ping" | "labeling_job.completed" | "labeling_queue.job.completed" | "labeling_queue.completed" | "create:project" | "update:project" | "delete:project" | "create:task" | "update:task" | "delete:task" | "create:job" | "update:job" | "delete:job" | "create:issue" | "update:issue" | "delete:issue" | "create:comment" | "update:comment" | "delete:comment" | "label.created" | "label.updated" | "label.deleted" | "webhook.disabled";
  /** The emitting platform's team id */
  team_id: number;
  /** Without it the event reaches only webhooks whose project_id is null */
  project_id?: number | null;
  /** Checked against the event type's schema */
  data: {
    [key: string]: unknown;
  };
  /** When it happened; defaults to now */
  timestamp?: string;
  /** Who caused it, passed on as is */
  sender?: {
    [key: string]: unknown;
  } | null;
  /** A repeat with the same key within 24 hours returns the first reply and creates nothing */
  idempotency_key?: string;
  /** Its ordering line on webhooks with ordering "fifo": events with the same key are delivered one at a time, in the order they were accepted; events without one share the default line. Ignored by ordering "none". */
  ordering_key?: string;
};

export type EventBatchInput = {
  events: EventInput[];
};

export type PortalSessionCreate = {
  /** The emitting platform's team id */
  team_id: number;
  /** Limit the session to this project's webhooks */
  project_id?: number | null;
  /** Seconds until the session ends */
  expires_in?: number;
  /** Only reads are allowed */
  read_only?: boolean;
};

/** `events` is required unless `action` is given; when both are given, `action` must be one of `events`. */
export type WebhookCreate = {
  /** The emitting platform's team id */
  team_id: number;
  /** http or https, at most 2048 characters */
  url: string;
  /** Event types to receive, or ["*"] for every type */
  events?: Array<"*" | "ping" | "labeling_job.completed" | "labeling_queue.job.completed" | "labeling_queue.completed" | "create:project" | "update:project" | "delete:project" | "create:task" | "update:task" | "delete:task" | "create:job" | "update:job" | "delete:job" | "create:issue" | "update:issue" | "delete:issue" | "create:comment" | "update:comment" | "delete:comment" | "label.created" | "label.updated" | "label.deleted" | "webhook.disabled">;
  /** One event type; the same as events: [action] (Supervisely style) */
  action?: "ping" | "labeling_job.completed" | "labeling_queue.job.completed" | "labeling_queue.completed" | "create:project" | "update:project" | "delete:project" | "create:task" | "update:task" | "delete:task" | "create:job" | "update:job" | "delete:job" | "create:issue" | "update:issue" | "delete:issue" | "create:comment" | "update:comment" | "delete:comment" | "label.created" | "label.updated" | "label.deleted" | "webhook.disabled";
  /** null: every project of the team */
  project_id?: number | null;
  /** Sent with every delivery. May not set Content-Type, Content-Length, Host, User-Agent, connection/framing headers, or any webhook-*, X-Webhook-*, X-Signature-256 or X-Hub-Signature header. */
  headers?: {
    [key: string]: string;
  };
  /** Signing secret; generated (whsec_ + base64 of 24 random bytes) when omitted. One starting with whsec_ must continue with standard base64 of 16 to 64 bytes. */
  secret?: string;
  /** Retries after the first attempt */
  retries_count?: number;
  /** Seconds between attempts */
  retries_delay?: number;
  retry_backoff?: "fixed" | "exponential";
  follow_redirect?: boolean;
  /** Verify TLS certificates */
  reject_unauthorized?: boolean;
  /** Seconds per attempt */
  timeout?: number;
  content_type?: "application/json";
  description?: string;
  /** Setting it true clears disabled_reason */
  is_active?: boolean;
  /** Deliveries per second; null for no limit */
  rate_limit?: number | null;
  /** fifo: deliveries one at a time per ordering line (the event's ordering_key), in the order the events were accepted, each with X-Webhook-Sequence; none: no order promised. A change applies to deliveries not yet attempted. */
  ordering?: "none" | "fifo";
};

/** Only the fields given change. */
export type WebhookUpdate = {
  /** May only repeat the current team */
  team_id?: number;
  /** http or https, at most 2048 characters */
  url?: string;
  /** Event types to receive, or ["*"] for every type */
  events?: Array<"*" | "ping" | "labeling_job.completed" | "labeling_queue.job.completed" | "labeling_queue.completed" | "create:project" | "update:project" | "delete:project" | "create:task" | "update:task" | "delete:task" | "create:job" | "update:job" | "delete:job" | "create:issue" | "update:issue" | "delete:issue" | "create:comment" | "update:comment" | "delete:comment" | "label.created" | "label.updated" | "label.deleted" | "webhook.disabled">;
  /** One event type; the same as events: [action] (Supervisely style) */
  action?: "ping" | "labeling_job.completed" | "labeling_queue.job.completed" | "labeling_queue.completed" | "create:project" | "update:project" | "delete:project" | "create:task" | "update:task" | "delete:task" | "create:job" | "update:job" | "delete:job" | "create:issue" | "update:issue" | "delete:issue" | "create:comment" | "update:comment" | "delete:comment" | "label.created" | "label.updated" | "label.deleted" | "webhook.disabled";
  /** null: every project of the team */
  project_id?: number | null;
  /** Replaces all custom headers */
  headers?: {
    [key: string]: string;
  };
  /** A new signing secret; the old one stays valid for 24 hours, as with rotate */
  secret?: string;
  /** Retries after the first attempt */
  retries_count?: number;
  /** Seconds between attempts */
  retries_delay?: number;
  retry_backoff?: "fixed" | "exponential";
  follow_redirect?: boolean;
  /** Verify TLS certificates */
  reject_unauthorized?: boolean;
  /** Seconds per attempt */
  timeout?: number;
  content_type?: "application/json";
  description?: string;
  /** Setting it true clears disabled_reason */
  is_active?: boolean;
  /** Deliveries per second; null for no limit */
  rate_limit?: number | null;
  /** fifo: deliveries one at a time per ordering line (the event's ordering_key), in the order the events were accepted, each with X-Webhook-Sequence; none: no order promised. A change applies to deliveries not yet attempted. */
  ordering?: "none" | "fifo";
};

export type RecoverInput = {
  /** Failed deliveries created at or after this time are sent again */
  since: string;
};

export type TestPingInput = {
  /** The ping's data; defaults to {"webhook": <the webhook>} */
  payload?: {
    [key: string]: unknown;
  };
};

export type ApiKey = {
  id: string;
  team_id: number;
  /** Shown once; only its SHA-256 hash is stored */
  key: string;
};

export type Error = {
  error: {
    code: string;
    message: string;
    details: Array<{
      path: string;
      message: string;
    }>;
  };
};

export type DeliveryWithAttempts = {
  id: string;
  webhook_id: string;
  event_id: string;
  /** The event type */
  event: string;
  status: "pending" | "succeeded" | "failed" | "cancelled";
  /** Attempts made so far */
  attempts: number;
  last_status_code: number | null;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
  attempt_log: Attempt[];
};

export type Attempt = {
  /** 1-based */
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  /** First 4 KiB of the answer */
  response_body: string | null;
  error: string | null;
};

export type Delivery = {
  id: string;
  webhook_id: string;
  event_id: string;
  /** The event type */
  event: string;
  status: "pending" | "succeeded" | "failed" | "cancelled";
  /** Attempts made so far */
  attempts: number;
  last_status_code: number | null;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
};

export type EventTypeList = {
  data: Array<{
    type: string;
    description: string;
    /** JSON Schema (draft 2020-12) of the event data */
    schema: {
      [key: string]: unknown;
    };
  }>;
};

export type EventAccepted = {
  event_id: string;
  /** Deliveries created, one per subscribed webhook */
  deliveries: number;
};

export type Event = {
  id: string;
  event: string;
  team_id: number;
  project_id: number | null;
  timestamp: string;
  data: {
    [key: string]: unknown;
  };
  sender: {
    [key: string]: unknown;
  } | null;
  /** Its ordering line; null when none was given */
  ordering_key: string | null;
  created_at: string;
  deliveries: Array<{
    id: string;
    webhook_id: string;
    status: "pending" | "succeeded" | "failed" | "cancelled";
  }>;
};

/** One result per event, in input order */
export type EventBatchResult = {
  results: Array<EventAccepted | {
    error: {
      code: string;
      message: string;
      details: Array<{
        path: string;
        message: string;
      }>;
    };
  }>;
};

export type PortalSession = {
  /** Bearer token for the team routes the session may use */
  token: string;
  /** The dashboard opened on this session, to embed in an iframe */
  url: string;
  expires_at: string;
};

export type ErasedTeam = {
  webhooks: number;
  events: number;
  deliveries: number;
  api_keys: number;
};

export type CreatedWebhook = {
  id: string;
  team_id: number;
  project_id: number | null;
  url: string;
  events: string[];
  headers: {
    [key: string]: string;
  };
  retries_count: number;
  retries_delay: number;
  retry_backoff: "fixed" | "exponential";
  follow_redirect: boolean;
  reject_unauthorized: boolean;
  timeout: number;
  content_type: string;
  description: string;
  is_active: boolean;
  rate_limit: number | null;
  ordering: "none" | "fifo";
  /** HTTP status of the latest attempt */
  last_status: number | null;
  last_delivery_at: string | null;
  /** Why Hooklane turned it off, e.g. "gone" or "failing" */
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
  /** Shown here and by GET /v1/webhooks/{id}/secret only */
  secret: string;
};

export type WebhookList = {
  data: Webhook[];
  /** Pass as cursor for the next page; null on the last page */
  next_cursor: string | null;
};

export type Webhook = {
  id: string;
  team_id: number;
  project_id: number | null;
  url: string;
  events: string[];
  headers: {
    [key: string]: string;
  };
  retries_count: number;
  retries_delay: number;
  retry_backoff: "fixed" | "exponential";
  follow_redirect: boolean;
  reject_unauthorized: boolean;
  timeout: number;
  content_type: string;
  description: string;
  is_active: boolean;
  rate_limit: number | null;
  ordering: "none" | "fifo";
  /** HTTP status of the latest attempt */
  last_status: number | null;
  last_delivery_at: string | null;
  /** Why Hooklane turned it off, e.g. "gone" or "failing" */
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
};

export type DeliveryPage = {
  data: Delivery[];
  next_cursor: string | null;
};

export type RecoverResult = {
  /** New deliveries queued */
  count: number;
};

export type WebhookSecret = {
  secret: string;
};

export type TestPingResult = {
  delivery_id: string;
  success: boolean;
  status_code: number | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
};

/** Every `/v1` operation, keyed `METHOD /path`; `response` is the 2xx body. */
export interface Operations {
  "POST /v1/api-keys": {
    path: never;
    query: never;
    body: ApiKeyCreate;
    status: 201;
    response: ApiKey;
  };
  "DELETE /v1/api-keys/{id}": {
    path: {
      id: string;
    };
    query: never;
    body: never;
    status: 204;
    response: void;
  };
  "GET /v1/deliveries/{id}": {
    path: {
      id: string;
    };
    query: never;
    body: never;
    status: 200;
    response: DeliveryWithAttempts;
  };
  "POST /v1/deliveries/{id}/redeliver": {
    path: {
      id: string;
    };
    query: never;
    body: never;
    status: 202;
    response: Delivery;
  };
  "GET /v1/event-types": {
    path: never;
    query: never;
    body: never;
    status: 200;
    response: EventTypeList;
  };
  "POST /v1/events": {
    path: never;
    query: never;
    body: EventInput;
    status: 202;
    response: EventAccepted;
  };
  "GET /v1/events/{id}": {
    path: {
      id: string;
    };
    query: never;
    body: never;
    status: 200;
    response: Event;
  };
  "DELETE /v1/events/{id}": {
    path: {
      id: string;
    };
    query: never;
    body: never;
    status: 204;
    response: void;
  };
  "POST /v1/events/batch": {
    path: never;
    query: never;
    body: EventBatchInput;
    status: 202;
    response: EventBatchResult;
  };
  "POST /v1/portal-sessions": {
    path: never;
    query: never;
    body: PortalSessionCreate;
    status: 201;
    response: PortalSession;
  };
  "DELETE /v1/teams/{team_id}": {
    path: {
      team_id: string;
    };
    query: never;
    body: never;
    status: 200;
    response: ErasedTeam;
  };
  "GET /v1/webhooks": {
    path: never;
    query: {
      /** Only this team (a team key may only name its own) */
      team_id?: string;
      /** Only this project; "null" for webhooks that cover every project */
      project_id?: "null" | string;
      /** Webhooks whose events hold this type or "*" */
      event?: "ping" | "labeling_job.completed" | "labeling_queue.job.completed" | "labeling_queue.completed" | "create:project" | "update:project" | "delete:project" | "create:task" | "update:task" | "delete:task" | "create:job" | "update:job" | "delete:job" | "create:issue" | "update:issue" | "delete:issue" | "create:comment" | "update:comment" | "delete:comment" | "label.created" | "label.updated" | "label.deleted" | "webhook.disabled" | "*";
      is_active?: "true" | "false";
      /** Only webhooks with this ordering */
      ordering?: "none" | "fifo";
      /** Page size, 1..200 */
      limit?: string;
      /** next_cursor of the previous page */
      cursor?: string;
      /** JSON array of {"field", "operator", "value"}; fields id, url, event, project_id, is_active, ordering; operators =, !=, in (value an array) */
      filters?: string;
    };
    body: never;
    status: 200;
    response: WebhookList;
  };
  "POST /v1/webhooks": {
    path: never;
    query: never;
    body: WebhookCreate;
    status: 201;
    response: CreatedWebhook;
  };
  "GET /v1/webhooks/{id}": {
    path: {
      id: string;
    };
    query: never;
    body: never;
    status: 200;
    response: Webhook;
  };
  "PATCH /v1/webhooks/{id}": {
    path: {
      id: string;
    };
    query: never;
    body: WebhookUpdate;
    status: 200;
    response: Webhook;
  };
  "DELETE /v1/webhooks/{id}": {
    path: {
      id: string;
    };
    query: never;
    body: never;
    status: 204;
    response: void;
  };
  "GET /v1/webhooks/{id}/deliveries": {
    path: {
      id: string;
    };
    query: {
      status?: "pending" | "succeeded" | "failed" | "cancelled";
      /** Page size, 1..200 */
      limit?: string;
      /** next_cursor of the previous page */
      cursor?: string;
    };
    body: never;
    status: 200;
    response: DeliveryPage;
  };
  "POST /v1/webhooks/{id}/recover": {
    path: {
      id: string;
    };
    query: never;
    body: RecoverInput;
    status: 202;
    response: RecoverResult;
  };
  "GET /v1/webhooks/{id}/secret": {
    path: {
      id: string;
    };
    query: never;
    body: never;
    status: 200;
    response: WebhookSecret;
  };
  "POST /v1/webhooks/{id}/secret/rotate": {
    path: {
      id: string;
    };
    query: never;
    body: {
      /** Signing secret; generated (whsec_ + base64 of 24 random bytes) when omitted. One starting with whsec_ must continue with standard base64 of 16 to 64 bytes. */
      secret?: string;
    };
    status: 200;
    response: WebhookSecret;
  };
  "POST /v1/webhooks/{id}/test": {
    path: {
      id: string;
    };
    query: never;
    body: TestPingInput;
    status: 200;
    response: TestPingResult;
  };
}

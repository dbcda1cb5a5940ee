import type { Attempt, Delivery } from '@hooklane/db';

export interface DeliveryResponse {
  id: string;
  webhook_id: string;
  event_id: string;
  event: string;
  status: Delivery['status'];
  attempts: number;
  last_status_code: number | null;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface AttemptResponse {
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  response_body: string | null;
  error: string | null;
}

export type DeliveryRow = Pick<
  Delivery,
  | 'id'
  | 'webhookId'
  | 'eventId'
  | 'eventType'
  | 'status'
  | 'attempts'
  | 'lastStatusCode'
  | 'nextAttemptAt'
  | 'createdAt'
  | 'updatedAt'
>;

export function toDeliveryResponse(row: DeliveryRow): DeliveryResponse {
  return {
    id: row.id,
    webhook_id: row.webhookId,
    event_id: row.eventId,
    event: row.eventType,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.lastStatusCode,
    next_attempt_at: row.nextAttemptAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toAttemptResponse(row: Attempt): AttemptResponse {
  return {
    attempt: row.attempt,
    started_at: row.startedAt.toISOString(),
    duration_ms: row.durationMs,
    status_code: row.statusCode,
    response_body: row.responseBody,
    error: row.error,
  };
}

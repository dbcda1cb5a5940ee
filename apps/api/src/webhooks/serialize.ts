import type { Webhook } from '@hooklane/db';
import type { z } from 'zod';
import type { webhookResponseSchema } from './schemas.js';

/** A webhook as the API shows it: snake_case, ISO timestamps, and never the secret. */
export type WebhookResponse = z.output<typeof webhookResponseSchema>;

// Stored headers were validated on the way in; this only guards against a hand-edited row.
function stringRecord(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

export function toWebhookResponse(row: Webhook): WebhookResponse {
  return {
    id: row.id,
    team_id: row.teamId,
    project_id: row.projectId,
    url: row.url,
    events: row.events,
    headers: stringRecord(row.headers),
    retries_count: row.retriesCount,
    retries_delay: row.retriesDelay,
    retry_backoff: row.retryBackoff,
    follow_redirect: row.followRedirect,
    reject_unauthorized: row.rejectUnauthorized,
    timeout: row.timeout,
    content_type: row.contentType,
    description: row.description,
    is_active: row.isActive,
    rate_limit: row.rateLimit,
    ordering: row.ordering,
    last_status: row.lastStatus,
    last_delivery_at: row.lastDeliveryAt?.toISOString() ?? null,
    disabled_reason: row.disabledReason,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

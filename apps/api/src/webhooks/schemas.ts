import { EVENT_TYPES, WILDCARD_EVENT } from '@hooklane/core';
import { z } from 'zod';
import { storableString } from '../http/storable-text.js';
import { headersSchema } from './header-rules.js';
import { webhookUrlSchema } from './url-rules.js';

/** Team, project and rate numbers live in PostgreSQL `integer` columns. */
export const INT4_MAX = 2_147_483_647;

/** Ordered delivery (v1.1): "fifo" attempts a webhook's deliveries one at a time per ordering line. */
export const ORDERINGS = ['none', 'fifo'] as const;
export const orderingSchema = z.enum(ORDERINGS, { error: 'Must be "none" or "fifo"' });

export const teamIdSchema = z.int().min(1).max(INT4_MAX).meta({ description: "The emitting platform's team id" });
export const projectIdSchema = z
  .int()
  .min(1)
  .max(INT4_MAX)
  .nullable()
  .meta({ description: 'null: every project of the team' });

const EVENT_CHOICES = [WILDCARD_EVENT, ...EVENT_TYPES] as [string, ...string[]];

export const eventTypeSchema = z.enum(EVENT_TYPES as [string, ...string[]], {
  error: 'Unknown event type; GET /v1/event-types lists them',
});

export const MAX_EVENTS = 100;

export const eventsSchema = z
  .array(z.enum(EVENT_CHOICES, { error: 'Unknown event type; GET /v1/event-types lists them, or use "*"' }))
  .min(1, 'At least one event type, or ["*"] for all')
  .max(MAX_EVENTS)
  .refine((events) => !events.includes(WILDCARD_EVENT) || events.every((e) => e === WILDCARD_EVENT), {
    message: '"*" already means every event type; give it alone',
  })
  .meta({ description: 'Event types to receive, or ["*"] for every type' });

const WHSEC_PREFIX = 'whsec_';
export const WHSEC_MIN_BYTES = 16;
export const WHSEC_MAX_BYTES = 64;

/**
 * Standard Webhooks receivers base64-decode what follows `whsec_` and use the bytes as the
 * key, so anything else could never verify there. Canonical standard base64 only: Node's
 * decoder skips characters it does not know, which would sign with a different key.
 */
function isValidWhsecKey(secret: string): boolean {
  const rest = secret.slice(WHSEC_PREFIX.length);
  const bytes = Buffer.from(rest, 'base64');
  return bytes.toString('base64') === rest && bytes.length >= WHSEC_MIN_BYTES && bytes.length <= WHSEC_MAX_BYTES;
}

export const secretSchema = z
  .string()
  .min(8, 'At least 8 characters')
  .max(256, 'At most 256 characters')
  .refine((secret) => !secret.startsWith(WHSEC_PREFIX) || isValidWhsecKey(secret), {
    message: `A whsec_ secret must continue with standard base64 of ${WHSEC_MIN_BYTES} to ${WHSEC_MAX_BYTES} bytes`,
  })
  .meta({
    description:
      'Signing secret; generated (whsec_ + base64 of 24 random bytes) when omitted. One starting with whsec_ must ' +
      `continue with standard base64 of ${WHSEC_MIN_BYTES} to ${WHSEC_MAX_BYTES} bytes.`,
  });

// Every settable field once; create adds defaults, update makes all optional.
const fields = {
  team_id: teamIdSchema,
  url: webhookUrlSchema,
  events: eventsSchema,
  action: eventTypeSchema.meta({ description: 'One event type; the same as events: [action] (Supervisely style)' }),
  project_id: projectIdSchema,
  headers: headersSchema,
  secret: secretSchema,
  retries_count: z.int().min(0).max(20).meta({ description: 'Retries after the first attempt' }),
  retries_delay: z.int().min(0).max(86_400).meta({ description: 'Seconds between attempts' }),
  retry_backoff: z.enum(['fixed', 'exponential']),
  follow_redirect: z.boolean(),
  reject_unauthorized: z.boolean().meta({ description: 'Verify TLS certificates' }),
  timeout: z.int().min(1).max(60).meta({ description: 'Seconds per attempt' }),
  content_type: z.literal('application/json', { error: 'Only "application/json" is supported' }),
  description: storableString().max(1000, 'At most 1000 characters'),
  is_active: z.boolean().meta({ description: 'Setting it true clears disabled_reason' }),
  rate_limit: z.int().min(1).max(INT4_MAX).nullable().meta({ description: 'Deliveries per second; null for no limit' }),
  ordering: orderingSchema.meta({
    description:
      'fifo: deliveries one at a time per ordering line (the event\'s ordering_key), in the order the events were ' +
      'accepted, each with X-Webhook-Sequence; none: no order promised. A change applies to deliveries not yet attempted.',
  }),
};

export const createWebhookSchema = z
  .strictObject({
    team_id: fields.team_id,
    url: fields.url,
    events: fields.events.optional(),
    action: fields.action.optional(),
    project_id: fields.project_id.default(null),
    headers: fields.headers.default({}),
    secret: fields.secret.optional(),
    retries_count: fields.retries_count.default(5),
    retries_delay: fields.retries_delay.default(10),
    retry_backoff: fields.retry_backoff.default('fixed'),
    follow_redirect: fields.follow_redirect.default(true),
    reject_unauthorized: fields.reject_unauthorized.default(true),
    timeout: fields.timeout.default(10),
    content_type: fields.content_type.default('application/json'),
    description: fields.description.default(''),
    is_active: fields.is_active.default(true),
    rate_limit: fields.rate_limit.default(null),
    ordering: fields.ordering.default('none'),
  })
  .meta({
    id: 'WebhookCreate',
    description: '`events` is required unless `action` is given; when both are given, `action` must be one of `events`.',
  });

export const updateWebhookSchema = z
  .strictObject({
    team_id: fields.team_id.optional().meta({ description: 'May only repeat the current team' }),
    url: fields.url.optional(),
    events: fields.events.optional(),
    action: fields.action.optional(),
    project_id: fields.project_id.optional(),
    headers: fields.headers.optional().meta({ description: 'Replaces all custom headers' }),
    secret: fields.secret
      .optional()
      .meta({ description: 'A new signing secret; the old one stays valid for 24 hours, as with rotate' }),
    retries_count: fields.retries_count.optional(),
    retries_delay: fields.retries_delay.optional(),
    retry_backoff: fields.retry_backoff.optional(),
    follow_redirect: fields.follow_redirect.optional(),
    reject_unauthorized: fields.reject_unauthorized.optional(),
    timeout: fields.timeout.optional(),
    content_type: fields.content_type.optional(),
    description: fields.description.optional(),
    is_active: fields.is_active.optional(),
    rate_limit: fields.rate_limit.optional(),
    ordering: fields.ordering.optional(),
  })
  .meta({ id: 'WebhookUpdate', description: 'Only the fields given change.' });

export type CreateWebhookInput = z.output<typeof createWebhookSchema>;
export type UpdateWebhookInput = z.output<typeof updateWebhookSchema>;

export const webhookResponseSchema = z
  .object({
    id: z.string().meta({ examples: ['wh_01JKA8W5Q0V3M4N5P6R7S8T9V0'] }),
    team_id: z.int(),
    project_id: z.int().nullable(),
    url: z.string(),
    events: z.array(z.string()),
    headers: z.record(z.string(), z.string()),
    retries_count: z.int(),
    retries_delay: z.int(),
    retry_backoff: z.enum(['fixed', 'exponential']),
    follow_redirect: z.boolean(),
    reject_unauthorized: z.boolean(),
    timeout: z.int(),
    content_type: z.string(),
    description: z.string(),
    is_active: z.boolean(),
    rate_limit: z.int().nullable(),
    ordering: z.enum(ORDERINGS),
    last_status: z.int().nullable().meta({ description: 'HTTP status of the latest attempt' }),
    last_delivery_at: z.iso.datetime().nullable(),
    disabled_reason: z.string().nullable().meta({ description: 'Why Hooklane turned it off, e.g. "gone" or "failing"' }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Webhook' });

export const createdWebhookResponseSchema = webhookResponseSchema
  .extend({ secret: z.string().meta({ description: 'Shown here and by GET /v1/webhooks/{id}/secret only' }) })
  .meta({ id: 'CreatedWebhook' });

export const webhookListResponseSchema = z
  .object({
    data: z.array(webhookResponseSchema),
    next_cursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last page' }),
  })
  .meta({ id: 'WebhookList' });

export const secretResponseSchema = z.object({ secret: z.string() }).meta({ id: 'WebhookSecret' });

export const rotateSecretSchema = z
  .strictObject({ secret: secretSchema.optional() })
  .meta({ description: 'Optional new secret; generated when omitted' });

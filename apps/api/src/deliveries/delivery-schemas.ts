import { z } from 'zod';
import { isoTimestampSchema } from '../ingest/event-schemas.js';
import { cursorParam, positiveIntParam } from '../http/query-params.js';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'cancelled'] as const;
export const DEFAULT_DELIVERY_LIMIT = 50;
export const MAX_DELIVERY_LIMIT = 200;

export const deliveryResponseSchema = z
  .object({
    id: z.string().meta({ examples: ['dlv_01JKA8W5Q0V3M4N5P6R7S8T9V0'] }),
    webhook_id: z.string(),
    event_id: z.string(),
    event: z.string().meta({ description: 'The event type' }),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.int().meta({ description: 'Attempts made so far' }),
    last_status_code: z.int().nullable(),
    next_attempt_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Delivery' });

export const attemptResponseSchema = z
  .object({
    attempt: z.int().meta({ description: '1-based' }),
    started_at: z.string(),
    duration_ms: z.int(),
    status_code: z.int().nullable(),
    response_body: z.string().nullable().meta({ description: 'First 4 KiB of the answer' }),
    error: z.string().nullable().meta({ examples: ['timeout', 'ECONNREFUSED', 'redirect not followed'] }),
  })
  .meta({ id: 'Attempt' });

export const deliveryDetailSchema = deliveryResponseSchema
  .extend({ attempt_log: z.array(attemptResponseSchema) })
  .meta({ id: 'DeliveryWithAttempts' });

export const deliveryPageSchema = z
  .object({ data: z.array(deliveryResponseSchema), next_cursor: z.string().nullable() })
  .meta({ id: 'DeliveryPage' });

export const listDeliveriesQuerySchema = z.strictObject({
  status: z.enum(DELIVERY_STATUSES, { error: `Must be one of ${DELIVERY_STATUSES.join(', ')}` }).optional(),
  limit: positiveIntParam(MAX_DELIVERY_LIMIT).default(DEFAULT_DELIVERY_LIMIT).meta({ description: `Page size, 1..${MAX_DELIVERY_LIMIT}` }),
  cursor: cursorParam('dlv'),
});

export type ListDeliveriesQuery = z.output<typeof listDeliveriesQuerySchema>;

export const recoverInputSchema = z
  .strictObject({
    since: isoTimestampSchema('2026-02-06T00:00:00Z').meta({ description: 'Failed deliveries created at or after this time are sent again' }),
  })
  .meta({ id: 'RecoverInput' });

export const recoverResultSchema = z
  .object({ count: z.int().meta({ description: 'New deliveries queued' }) })
  .meta({ id: 'RecoverResult' });

export const testInputSchema = z
  .strictObject({
    payload: z
      .record(z.string(), z.unknown(), { error: 'payload must be a JSON object' })
      .optional()
      .meta({ description: 'The ping\'s data; defaults to {"webhook": <the webhook>}' }),
  })
  .meta({ id: 'TestPingInput' });

export const testResultSchema = z
  .object({
    delivery_id: z.string(),
    success: z.boolean(),
    status_code: z.int().nullable(),
    response_body: z.string().nullable(),
    duration_ms: z.int(),
    error: z.string().nullable(),
  })
  .meta({ id: 'TestPingResult' });

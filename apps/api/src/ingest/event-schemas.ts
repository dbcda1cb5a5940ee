import { z } from 'zod';
import { storableString } from '../http/storable-text.js';
import { eventTypeSchema, INT4_MAX, teamIdSchema } from '../webhooks/schemas.js';

export const MAX_BATCH_EVENTS = 1000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
export const MAX_ORDERING_KEY_LENGTH = 255;

const jsonObject = (what: string) =>
  z.record(z.string(), z.unknown(), { error: `${what} must be a JSON object` });

// Control characters (NUL above all) cannot be stored in a PostgreSQL text column.
export const idempotencyKeySchema = z
  .string()
  .min(1, 'Must not be empty')
  .max(MAX_IDEMPOTENCY_KEY_LENGTH, `At most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`)
  .regex(/^[^\p{Cc}]+$/u, 'Must not contain control characters')
  .meta({ description: 'A repeat with the same key within 24 hours returns the first reply and creates nothing' });

/** (v1.1) The event's ordering line on `fifo` webhooks; stored as given, ignored by `none` webhooks. */
export const orderingKeySchema = storableString()
  .min(1, 'Must not be empty')
  .max(MAX_ORDERING_KEY_LENGTH, `At most ${MAX_ORDERING_KEY_LENGTH} characters`)
  .meta({
    description:
      'Its ordering line on webhooks with ordering "fifo": events with the same key are delivered one at a time, ' +
      'in the order they were accepted; events without one share the default line. Ignored by ordering "none".',
    examples: ['task-42'],
  });

const EARLIEST = Date.UTC(1970, 0, 1);

/**
 * An ISO-8601 date-time with a zone, from 1970 on: PostgreSQL refuses year 0, and an
 * earlier date is almost surely seconds mistaken for milliseconds upstream.
 */
export function isoTimestampSchema(example: string) {
  return z.iso
    .datetime({ offset: true, error: `Must be an ISO-8601 date-time with a time zone, e.g. ${example}` })
    .refine((value) => Date.parse(value) >= EARLIEST, 'Must not be before 1970-01-01T00:00:00Z');
}

/**
 * One event as a platform emits it. Strict, so a misspelt field is a 400 rather than
 * silently dropped; `data` is checked against the event type's schema afterwards.
 */
export const eventInputSchema = z
  .strictObject({
    event: eventTypeSchema.meta({ description: 'A type from GET /v1/event-types' }),
    team_id: teamIdSchema,
    project_id: z
      .int()
      .min(1)
      .max(INT4_MAX)
      .nullable()
      .optional()
      .meta({ description: 'Without it the event reaches only webhooks whose project_id is null' }),
    data: jsonObject('data').meta({ description: "Checked against the event type's schema" }),
    timestamp: isoTimestampSchema('2026-02-06T12:34:56.789Z')
      .optional()
      .meta({ description: 'When it happened; defaults to now' }),
    sender: jsonObject('sender').nullable().optional().meta({ description: 'Who caused it, passed on as is' }),
    idempotency_key: idempotencyKeySchema.optional(),
    ordering_key: orderingKeySchema.optional(),
  })
  .meta({ id: 'EventInput' });

export type EventInput = z.output<typeof eventInputSchema>;

/** What the batch route parses: items are checked one by one, so a bad one fails alone. */
export const batchEnvelopeSchema = z.strictObject({
  events: z
    .array(z.unknown(), { error: 'events must be an array of events' })
    .min(1, 'At least one event')
    .max(MAX_BATCH_EVENTS, `At most ${MAX_BATCH_EVENTS} events per batch`),
});

/** The batch body as documented (the same limits, with the item schema spelled out). */
export const batchInputSchema = z
  .strictObject({ events: z.array(eventInputSchema).min(1).max(MAX_BATCH_EVENTS) })
  .meta({ id: 'EventBatchInput' });

export const eventAcceptedSchema = z
  .object({
    event_id: z.string().meta({ examples: ['evt_01JKA8W5Q0V3M4N5P6R7S8T9V0'] }),
    deliveries: z.int().meta({ description: 'Deliveries created, one per subscribed webhook' }),
  })
  .meta({ id: 'EventAccepted' });

const itemErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })),
  }),
});

export const batchResultSchema = z
  .object({ results: z.array(z.union([eventAcceptedSchema, itemErrorSchema])) })
  .meta({ id: 'EventBatchResult', description: 'One result per event, in input order' });

export const eventResponseSchema = z
  .object({
    id: z.string(),
    event: z.string(),
    team_id: z.int(),
    project_id: z.int().nullable(),
    timestamp: z.string(),
    data: z.record(z.string(), z.unknown()),
    sender: z.record(z.string(), z.unknown()).nullable(),
    ordering_key: z.string().nullable().meta({ description: 'Its ordering line; null when none was given' }),
    created_at: z.string(),
    deliveries: z.array(
      z.object({ id: z.string(), webhook_id: z.string(), status: z.enum(['pending', 'succeeded', 'failed', 'cancelled']) }),
    ),
  })
  .meta({ id: 'Event' });

import { WILDCARD_EVENT } from '@hooklane/core';
import type { Prisma } from '@hooklane/db';
import { z } from 'zod';
import { storableString } from '../http/storable-text.js';
import { eventTypeSchema, INT4_MAX, orderingSchema } from './schemas.js';

/**
 * `filters` on GET /v1/webhooks: a JSON array of {field, operator, value} (Supervisely
 * style). Each entry is checked against the field's type, so a wrong value is a 400
 * rather than a query that silently matches nothing.
 */

export const MAX_FILTERS = 20;
export const MAX_IN_VALUES = 100;

const idValue = storableString().min(1).max(64);
const urlValue = storableString().min(1).max(2048);
const eventValue = z.union([eventTypeSchema, z.literal(WILDCARD_EVENT)], {
  error: 'Unknown event type; GET /v1/event-types lists them',
});
const projectValue = z.int().min(1).max(INT4_MAX).nullable();
const activeValue = z.boolean();

const FIELDS = ['id', 'url', 'event', 'project_id', 'is_active', 'ordering'] as const;
const OPERATORS = ['=', '!=', 'in'] as const;

const VALUE_SCHEMAS: Record<(typeof FIELDS)[number], z.ZodType> = {
  id: idValue,
  url: urlValue,
  event: eventValue,
  project_id: projectValue,
  is_active: activeValue,
  ordering: orderingSchema,
};

export const filtersSchema = z
  .array(
    z.strictObject({
      field: z.enum(FIELDS, { error: `field must be one of ${FIELDS.join(', ')}` }),
      operator: z.enum(OPERATORS, { error: `operator must be one of ${OPERATORS.join(', ')}` }),
      value: z.unknown(),
    }),
  )
  .max(MAX_FILTERS)
  .superRefine((filters, ctx) => {
    filters.forEach((filter, index) => {
      const one = VALUE_SCHEMAS[filter.field];
      const schema = filter.operator === 'in' ? z.array(one).min(1).max(MAX_IN_VALUES) : one;
      // z.unknown() lets a missing value through; it is a mistake here, not a filter on "undefined".
      const result = filter.value === undefined ? undefined : schema.safeParse(filter.value);
      if (result === undefined) {
        ctx.addIssue({ code: 'custom', path: [index, 'value'], message: 'Required' });
      } else if (!result.success) {
        for (const issue of result.error.issues) {
          const expected = filter.operator === 'in' ? `an array of ${filter.field} values` : `a ${filter.field} value`;
          ctx.addIssue({ code: 'custom', path: [index, 'value', ...issue.path], message: `${issue.message} (expected ${expected})` });
        }
      }
    });
  });

export type WebhookFilter = z.output<typeof filtersSchema>[number];

/** Webhooks subscribed to `event`: holding it, or holding "*". */
export function subscribedTo(event: string): Prisma.WebhookWhereInput {
  return event === WILDCARD_EVENT ? { events: { has: WILDCARD_EVENT } } : { events: { hasSome: [event, WILDCARD_EVENT] } };
}

function projectIn(values: Array<number | null>): Prisma.WebhookWhereInput {
  const numbers = values.filter((v): v is number => v !== null);
  const or: Prisma.WebhookWhereInput[] = [];
  if (numbers.length) or.push({ projectId: { in: numbers } });
  if (numbers.length !== values.length) or.push({ projectId: null });
  return { OR: or };
}

function matchOf(filter: WebhookFilter): Prisma.WebhookWhereInput {
  const values = (filter.operator === 'in' ? filter.value : [filter.value]) as unknown[];
  switch (filter.field) {
    case 'id':
      return { id: { in: values as string[] } };
    case 'url':
      return { url: { in: values as string[] } };
    case 'event':
      return { OR: (values as string[]).map(subscribedTo) };
    case 'project_id':
      return projectIn(values as Array<number | null>);
    case 'is_active':
      return { OR: (values as boolean[]).map((isActive) => ({ isActive })) };
    case 'ordering':
      return { ordering: { in: values as Array<'none' | 'fifo'> } };
  }
}

// SQL's NOT (project_id IN (...)) is unknown, not true, for a null project_id, so the
// negation is spelled out to keep "every project" webhooks in a != answer.
function projectNotIn(values: Array<number | null>): Prisma.WebhookWhereInput {
  const numbers = values.filter((v): v is number => v !== null);
  const and: Prisma.WebhookWhereInput[] = [];
  if (numbers.length !== values.length) and.push({ projectId: { not: null } });
  if (numbers.length) and.push({ OR: [{ projectId: null }, { projectId: { notIn: numbers } }] });
  return { AND: and };
}

export function filterWhere(filter: WebhookFilter): Prisma.WebhookWhereInput {
  if (filter.field === 'project_id' && filter.operator === '!=') return projectNotIn([filter.value as number | null]);
  const match = matchOf(filter);
  return filter.operator === '!=' ? { NOT: match } : match;
}

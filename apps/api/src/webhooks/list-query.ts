import { WILDCARD_EVENT } from '@hooklane/core';
import { z } from 'zod';
import { cursorParam, positiveIntParam as positiveInt } from '../http/query-params.js';
import { filtersSchema } from './list-filters.js';
import { detailsOf } from './parse-input.js';
import { eventTypeSchema, INT4_MAX, orderingSchema } from './schemas.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

const booleanParam = z
  .enum(['true', 'false'], { error: 'Must be true or false' })
  .transform((value) => value === 'true');

/** Query of GET /v1/webhooks. Query values arrive as strings; a repeated parameter arrives as an array and is refused. */
export const listWebhooksQuerySchema = z.strictObject({
  team_id: positiveInt(INT4_MAX).optional().meta({ description: 'Only this team (a team key may only name its own)' }),
  project_id: z
    .union([z.literal('null').transform(() => null), positiveInt(INT4_MAX)])
    .optional()
    .meta({ description: 'Only this project; "null" for webhooks that cover every project' }),
  event: z
    .union([eventTypeSchema, z.literal(WILDCARD_EVENT)], { error: 'Unknown event type; GET /v1/event-types lists them' })
    .optional()
    .meta({ description: 'Webhooks whose events hold this type or "*"' }),
  is_active: booleanParam.optional(),
  ordering: orderingSchema.optional().meta({ description: 'Only webhooks with this ordering' }),
  limit: positiveInt(MAX_LIMIT).default(DEFAULT_LIMIT).meta({ description: `Page size, 1..${MAX_LIMIT}` }),
  cursor: cursorParam('wh'),
  filters: z
    .string()
    .transform((text, ctx) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'filters must be a JSON array of {"field", "operator", "value"}' });
        return z.NEVER;
      }
      const result = filtersSchema.safeParse(value);
      if (!result.success) {
        for (const detail of detailsOf(result.error)) {
          ctx.addIssue({ code: 'custom', path: detail.path ? detail.path.split('.') : [], message: detail.message });
        }
        return z.NEVER;
      }
      return result.data;
    })
    .optional()
    .meta({
      description:
        'JSON array of {"field", "operator", "value"}; fields id, url, event, project_id, is_active, ordering; operators =, !=, in (value an array)',
      examples: ['[{"field":"event","operator":"in","value":["create:task","update:task"]}]'],
    }),
});

export type ListWebhooksQuery = z.output<typeof listWebhooksQuerySchema>;

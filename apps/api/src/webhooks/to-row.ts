import { generateSecret, newId } from '@hooklane/core';
import type { Prisma, Webhook } from '@hooklane/db';
import { badRequest } from '../http/errors.js';
import type { CreateWebhookInput, UpdateWebhookInput } from './schemas.js';
import { previousSecretFields } from './secrets.js';

/**
 * `action` is the Supervisely spelling of a single subscription. Given alone it means
 * `events: [action]`; given with `events` it must be one of them (then `events` wins),
 * so a client sending both never gets a subscription it did not ask for.
 */
export function resolveEvents(events: string[] | undefined, action: string | undefined): string[] | undefined {
  if (events === undefined) return action === undefined ? undefined : [action];
  if (action !== undefined && !events.includes(action) && !events.includes('*')) {
    throw badRequest('Request body is invalid', [{ path: 'action', message: 'action must be one of events when both are given' }]);
  }
  return [...new Set(events)];
}

/** The columns that map one to one from the API's fields; on PATCH an absent field stays undefined (unchanged). */
function deliverySettings(input: UpdateWebhookInput) {
  return {
    headers: input.headers,
    retriesCount: input.retries_count,
    retriesDelay: input.retries_delay,
    retryBackoff: input.retry_backoff,
    followRedirect: input.follow_redirect,
    rejectUnauthorized: input.reject_unauthorized,
    timeout: input.timeout,
    contentType: input.content_type,
    description: input.description,
    isActive: input.is_active,
    rateLimit: input.rate_limit,
    ordering: input.ordering,
  };
}

export function newWebhookRow(input: CreateWebhookInput): Prisma.WebhookCreateInput {
  const events = resolveEvents(input.events, input.action);
  if (!events) {
    throw badRequest('Request body is invalid', [{ path: 'events', message: 'Required unless action is given' }]);
  }
  return {
    id: newId('wh'),
    teamId: input.team_id,
    projectId: input.project_id,
    url: input.url,
    events,
    secret: input.secret ?? generateSecret(),
    ...deliverySettings(input),
  };
}

/** The columns a PATCH changes: only the fields given. */
export function webhookChanges(input: UpdateWebhookInput, current: Webhook, now: Date): Prisma.WebhookUpdateManyMutationInput {
  const events = resolveEvents(input.events, input.action);
  const changes: Prisma.WebhookUpdateManyMutationInput = {
    projectId: input.project_id,
    url: input.url,
    events,
    ...deliverySettings(input),
  };
  if (input.is_active === true) {
    // Turning a webhook back on starts it afresh: the old reason and failure run no longer apply.
    changes.disabledReason = null;
    changes.failingSince = null;
  }
  if (input.secret !== undefined && input.secret !== current.secret) {
    Object.assign(changes, { secret: input.secret, ...previousSecretFields(current.secret, now) });
  }
  // Prisma reads `undefined` as "leave unchanged", which is exactly PATCH semantics.
  return changes;
}

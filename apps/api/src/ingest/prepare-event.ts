import { isEventType, validateEventData } from '@hooklane/core';
import type { z } from 'zod';
import { assertTeamAllowed, type Auth } from '../http/auth.js';
import { badRequest, type ErrorDetail } from '../http/errors.js';
import { detailsOf } from '../webhooks/parse-input.js';
import { eventInputSchema, idempotencyKeySchema } from './event-schemas.js';
import { assertNotReserved } from './reserved-events.js';
import { unstorableJsonDetail } from './storable-json.js';

/** An event that passed every check and may be stored as is. */
export interface PreparedEvent {
  teamId: number;
  projectId: number | null;
  type: string;
  timestamp: Date;
  data: Record<string, unknown>;
  sender: Record<string, unknown> | null;
  idempotencyKey: string | null;
  /** (v1.1) Its ordering line on fifo webhooks; null: the default line. */
  orderingKey: string | null;
}

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

const requiredMessage: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== 'invalid_type' || issue.input !== undefined) return undefined;
  return issue.path?.length ? 'Required' : 'An event object is required';
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `data` is checked against its type's schema even when other fields fail, so that one
 * 400 names every problem at once; its paths are prefixed `data.`.
 */
function dataDetails(raw: Record<string, unknown>): ErrorDetail[] {
  if (!isEventType(raw.event) || !isPlainObject(raw.data)) return [];
  const result = validateEventData(raw.event, raw.data);
  if (result.ok) return [];
  return result.issues.map((issue) => ({ path: issue.path ? `data.${issue.path}` : 'data', message: issue.message }));
}

/** Checks the Idempotency-Key header on its own, so a bad header is a 400 that names it. */
export function parseIdempotencyHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const result = idempotencyKeySchema.safeParse(value);
  if (!result.success) {
    throw badRequest('Idempotency-Key header is invalid', [
      { path: IDEMPOTENCY_HEADER, message: result.error.issues[0]?.message ?? 'Invalid' },
    ]);
  }
  return result.data;
}

/**
 * Validates one event body (a 400 naming every failing path), then whether this caller may
 * emit for its team (a 403). `headerKey` is the request's Idempotency-Key, if any; it must
 * agree with an `idempotency_key` field given alongside.
 */
export function prepareEvent(raw: unknown, auth: Auth, headerKey?: string): PreparedEvent {
  const result = eventInputSchema.safeParse(raw, { error: requiredMessage });
  const details = result.success ? [] : detailsOf(result.error);
  if (isPlainObject(raw) && !details.some((d) => d.path === 'data' || d.path.startsWith('data.'))) {
    details.push(...dataDetails(raw));
  }
  if (result.success) {
    for (const [value, path] of [
      [result.data.data, 'data'],
      [result.data.sender, 'sender'],
    ] as const) {
      const problem = unstorableJsonDetail(value, path);
      if (problem) details.push(problem);
    }
  }
  if (!result.success || details.length > 0) throw badRequest('Event is invalid', details);

  const input = result.data;
  if (headerKey !== undefined && input.idempotency_key !== undefined && headerKey !== input.idempotency_key) {
    throw badRequest('Event is invalid', [
      { path: 'idempotency_key', message: `Differs from the ${IDEMPOTENCY_HEADER} header; give one or make them equal` },
    ]);
  }
  assertTeamAllowed(auth, input.team_id);
  assertNotReserved(input.event);
  return {
    teamId: input.team_id,
    projectId: input.project_id ?? null,
    type: input.event,
    timestamp: input.timestamp === undefined ? new Date() : new Date(input.timestamp),
    data: input.data,
    sender: input.sender ?? null,
    idempotencyKey: input.idempotency_key ?? headerKey ?? null,
    orderingKey: input.ordering_key ?? null,
  };
}

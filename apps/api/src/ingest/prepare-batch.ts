import type { Auth } from '../http/auth.js';
import { HttpError } from '../http/errors.js';
import { parseInput } from '../webhooks/parse-input.js';
import { batchEnvelopeSchema } from './event-schemas.js';
import { prepareEvent, type PreparedEvent } from './prepare-event.js';

export type BatchItem = { ok: true; event: PreparedEvent } | { ok: false; error: HttpError };

/**
 * Checks a batch: the envelope as a whole (a 400 for the request), then each event on its
 * own, so that one bad event is reported in its slot and the others still go through.
 * An Idempotency-Key header on a batch covers every event without a key of its own, as
 * `<header>#<index>`: a retried batch replays event by event.
 */
export function prepareBatch(body: unknown, auth: Auth, headerKey: string | undefined): BatchItem[] {
  const { events } = parseInput(batchEnvelopeSchema, body);
  return events.map((raw, index): BatchItem => {
    try {
      const ownKey =
        raw !== null && typeof raw === 'object' && 'idempotency_key' in raw && raw.idempotency_key !== undefined;
      const derivedKey = headerKey !== undefined && !ownKey ? `${headerKey}#${index}` : undefined;
      const event = prepareEvent(raw, auth);
      return { ok: true, event: derivedKey ? { ...event, idempotencyKey: derivedKey } : event };
    } catch (err) {
      if (err instanceof HttpError) return { ok: false, error: err };
      throw err;
    }
  });
}

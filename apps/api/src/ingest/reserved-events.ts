import { forbidden } from '../http/errors.js';

/**
 * Event types only the service emits (contract, "Security rules (v1.1)"). Receivers act on
 * `webhook.disabled` (re-enable, page someone), so a made-up one is refused for every caller
 * of the API, the admin token included: the service announces it from inside, not through `/v1/events`.
 */
export const RESERVED_EVENT_TYPES: ReadonlySet<string> = new Set(['webhook.disabled']);

export function assertNotReserved(type: string): void {
  if (RESERVED_EVENT_TYPES.has(type)) throw forbidden(`Event type ${type} is reserved: only Hooklane itself emits it`);
}

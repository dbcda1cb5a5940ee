import { callOperation } from '../call.js';
import type { CallOptions, TransportOptions } from '../transport.js';
import type {
  ApiKey,
  ApiKeyCreate,
  Delivery,
  DeliveryWithAttempts,
  EventTypeList,
  PortalSession,
  PortalSessionCreate,
  TeamErasure,
} from '../types.js';

/** `hl.deliveries`. */
export class Deliveries {
  constructor(private readonly transport: TransportOptions) {}

  /** The delivery with its whole `attempt_log`. */
  get(id: string, options?: CallOptions): Promise<DeliveryWithAttempts> {
    return callOperation(this.transport, 'GET /v1/deliveries/{id}', { params: { id } }, options);
  }

  /** A new delivery of the same event to the same webhook. */
  redeliver(id: string, options?: CallOptions): Promise<Delivery> {
    return callOperation(this.transport, 'POST /v1/deliveries/{id}/redeliver', { params: { id } }, options);
  }
}

/** `hl.eventTypes`. */
export class EventTypes {
  constructor(private readonly transport: TransportOptions) {}

  /** The catalog: `{ data: [{ type, description, schema }] }`. */
  list(options?: CallOptions): Promise<EventTypeList> {
    return callOperation(this.transport, 'GET /v1/event-types', {}, options);
  }
}

/** `hl.apiKeys` (admin token). */
export class ApiKeys {
  constructor(private readonly transport: TransportOptions) {}

  /** A team key; `key` is shown this once. */
  create(body: ApiKeyCreate, options?: CallOptions): Promise<ApiKey> {
    return callOperation(this.transport, 'POST /v1/api-keys', { body }, options);
  }

  revoke(id: string, options?: CallOptions): Promise<void> {
    return callOperation(this.transport, 'DELETE /v1/api-keys/{id}', { params: { id } }, options);
  }
}

/** `hl.portal` (v1.1). */
export class Portal {
  constructor(private readonly transport: TransportOptions) {}

  /** A dashboard session for one team; embed `url` in the platform's settings page. */
  createSession(body: PortalSessionCreate, options?: CallOptions): Promise<PortalSession> {
    return callOperation(this.transport, 'POST /v1/portal-sessions', { body }, options);
  }
}

/** `hl.teams` (v1.1, admin token). */
export class Teams {
  constructor(private readonly transport: TransportOptions) {}

  /** Erases everything of the team and says how much went. */
  erase(teamId: number, options?: CallOptions): Promise<TeamErasure> {
    return callOperation(this.transport, 'DELETE /v1/teams/{team_id}', { params: { team_id: teamId } }, options);
  }
}

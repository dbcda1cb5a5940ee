import { ApiKeys, Deliveries, EventTypes, Portal, Teams } from './resources/admin.js';
import { Events } from './resources/events.js';
import { Webhooks } from './resources/webhooks.js';
import type { TransportOptions } from './transport.js';

export interface HooklaneOptions {
  /** Where the API answers, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** Admin token, team key (`hlk_...`) or portal session token. */
  token: string;
  /** Per try, in milliseconds [30000]; each call may override it. */
  timeoutMs?: number;
  /** Tries in all for `events.emit` / `emitBatch` on 503 and network errors [3]. */
  retries?: number;
  /** Wait before the first retry, doubled for each next one [250]. */
  retryDelayMs?: number;
  /** A fetch of your own (tests, proxies, instrumentation) [globalThis.fetch]. */
  fetch?: typeof fetch;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

/** The Hooklane API client: one property per group of routes of the contract. */
export class Hooklane {
  readonly webhooks: Webhooks;
  readonly events: Events;
  readonly deliveries: Deliveries;
  readonly eventTypes: EventTypes;
  readonly apiKeys: ApiKeys;
  readonly portal: Portal;
  readonly teams: Teams;

  constructor(options: HooklaneOptions) {
    if (!options?.baseUrl) throw new TypeError('Hooklane: baseUrl is required');
    if (!options.token) throw new TypeError('Hooklane: token is required');
    const transport: TransportOptions = {
      baseUrl: options.baseUrl,
      token: options.token,
      timeoutMs: options.timeoutMs ?? 30_000,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      headers: options.headers ?? {},
    };
    this.webhooks = new Webhooks(transport);
    this.events = new Events(transport, { retries: options.retries ?? 3, retryDelayMs: options.retryDelayMs ?? 250 });
    this.deliveries = new Deliveries(transport);
    this.eventTypes = new EventTypes(transport);
    this.apiKeys = new ApiKeys(transport);
    this.portal = new Portal(transport);
    this.teams = new Teams(transport);
  }
}

import { callOperation } from '../call.js';
import { withRetries } from '../retry.js';
import type { CallOptions, TransportOptions } from '../transport.js';
import type { Event, EventAccepted, EventBatchResult, EventInput } from '../types.js';

export interface EmitOptions extends CallOptions {
  /** Sent as `Idempotency-Key`; generated when not given, and the same on every try. */
  idempotencyKey?: string;
  /** How many tries in all on a 503 or a network error (default: the client's, 3). 1 = no retry. */
  retries?: number;
}

export interface RetryDefaults {
  retries: number;
  retryDelayMs: number;
}

/** `hl.events`: emit, read and erase events. */
export class Events {
  constructor(
    private readonly transport: TransportOptions,
    private readonly defaults: RetryDefaults,
  ) {}

  /**
   * `POST /v1/events`. Retried on 503 and network errors with one Idempotency-Key, so the
   * API stores the event once however many tries it takes.
   */
  emit(event: EventInput, options: EmitOptions = {}): Promise<EventAccepted> {
    const headers = { 'Idempotency-Key': options.idempotencyKey ?? globalThis.crypto.randomUUID() };
    return this.retrying(options, () =>
      callOperation(this.transport, 'POST /v1/events', { body: event, headers }, options),
    );
  }

  /** `POST /v1/events/batch`: one result per event, in input order; retried like `emit`. */
  emitBatch(events: EventInput[], options: EmitOptions = {}): Promise<EventBatchResult> {
    const headers = { 'Idempotency-Key': options.idempotencyKey ?? globalThis.crypto.randomUUID() };
    return this.retrying(options, () =>
      callOperation(this.transport, 'POST /v1/events/batch', { body: { events }, headers }, options),
    );
  }

  /** The event and the deliveries made for it. */
  get(id: string, options?: CallOptions): Promise<Event> {
    return callOperation(this.transport, 'GET /v1/events/{id}', { params: { id } }, options);
  }

  /** (v1.1) Erases the event, its deliveries and their attempt logs. */
  delete(id: string, options?: CallOptions): Promise<void> {
    return callOperation(this.transport, 'DELETE /v1/events/{id}', { params: { id } }, options);
  }

  private retrying<T>(options: EmitOptions, attempt: () => Promise<T>): Promise<T> {
    return withRetries(attempt, options.retries ?? this.defaults.retries, this.defaults.retryDelayMs, options.signal);
  }
}

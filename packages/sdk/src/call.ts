import { pathOf, send, type CallOptions, type Request, type TransportOptions } from './transport.js';
import type { Operations } from './types.js';

export type OperationKey = keyof Operations;
type Params<K extends OperationKey> = Operations[K]['path'] extends never ? Record<string, never> : Operations[K]['path'];

export interface Call<K extends OperationKey> {
  params?: { [P in keyof Params<K>]: string | number };
  query?: Record<string, string | undefined>;
  body?: Operations[K]['body'];
  headers?: Record<string, string>;
}

/**
 * Sends one operation of the contract, named `METHOD /path` as in the generated
 * `Operations`, so each SDK method's body and answer types follow the API's document.
 */
export function callOperation<K extends OperationKey>(
  transport: TransportOptions,
  operation: K,
  call: Call<K>,
  options?: CallOptions,
): Promise<Operations[K]['response']> {
  const space = operation.indexOf(' ');
  const request: Request = {
    method: operation.slice(0, space) as Request['method'],
    path: pathOf(operation.slice(space + 1), (call.params ?? {}) as Record<string, string | number>),
    ...(call.query ? { query: call.query } : {}),
    ...(call.body !== undefined ? { body: call.body } : {}),
    ...(call.headers ? { headers: call.headers } : {}),
  };
  return send(transport, request, options);
}

/** Query values as text; arrays and objects (Supervisely `filters`) as JSON. */
export function toQuery(values: object): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    out[name] = value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}

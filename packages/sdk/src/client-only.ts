// `@hooklane/sdk/client`: the API client alone, without the receiver helpers, so that a
// bundle for a browser (or any runtime with fetch but no node:crypto) can use it.
export { Hooklane, type HooklaneOptions } from './client.js';
export { HooklaneError, type ErrorDetail } from './errors.js';
export { PageIterator, type Page } from './pagination.js';
export type { CallOptions } from './transport.js';
export type { EmitOptions } from './resources/events.js';
export type * from './types.js';

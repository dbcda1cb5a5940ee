import { createServer, type RequestListener, type Server } from 'node:http';

/** Contract, "Security rules (v1.1)": headers or body not complete within 30 s -> 408 and closed. */
export const CLIENT_TIMEOUT_MS = 30_000;

export interface ApiServerOptions {
  /** How long a client may take to send its headers and its whole body; tests use a short one. */
  clientTimeoutMs?: number;
}

/**
 * The API's HTTP server. Node answers 408 and closes the connection itself when a request
 * outlives `requestTimeout` (headers and body) or `headersTimeout`, but only notices at
 * each `connectionsCheckingInterval` (30 s by default, which would double the limit);
 * checking every second keeps the limit close to what is promised.
 */
export function createApiServer(app: RequestListener, options: ApiServerOptions = {}): Server {
  const timeout = options.clientTimeoutMs ?? CLIENT_TIMEOUT_MS;
  return createServer(
    {
      requestTimeout: timeout,
      headersTimeout: timeout,
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(timeout / 4))),
    },
    app,
  );
}

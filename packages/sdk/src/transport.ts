import { HooklaneError, type ErrorDetail } from './errors.js';

/** Options every method takes as its last argument. */
export interface CallOptions {
  /** Aborts the call (and any retry of it). */
  signal?: AbortSignal;
  /** Per try, in milliseconds; overrides the client's `timeoutMs`. */
  timeoutMs?: number;
}

export interface TransportOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  fetch: typeof fetch;
  headers: Record<string, string>;
}

export interface Request {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

const segment = (value: string | number) => encodeURIComponent(String(value));

/** `/v1/webhooks/{id}` with `{ id }` filled in, each value percent-encoded. */
export function pathOf(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => segment(params[name] ?? ''));
}

function errorFromBody(status: number, text: string): HooklaneError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const error = body.error;
    if (error && typeof error.code === 'string') {
      const details = Array.isArray(error.details) ? (error.details as ErrorDetail[]) : [];
      return new HooklaneError(status, error.code, String(error.message ?? error.code), details);
    }
  } catch {
    // Not the contract's JSON (a proxy's HTML page, say): fall through to a generic error.
  }
  return new HooklaneError(status, `http_${status}`, text.slice(0, 200) || `HTTP ${status}`);
}

/** One HTTP exchange: bearer token, JSON both ways, timeout and caller's signal combined. */
export async function send<T>(transport: TransportOptions, request: Request, options: CallOptions = {}): Promise<T> {
  const url = new URL(transport.baseUrl.replace(/\/+$/, '') + request.path);
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  const timeoutMs = options.timeoutMs ?? transport.timeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const headers: Record<string, string> = {
    Accept: 'application/json',
    ...transport.headers,
    Authorization: `Bearer ${transport.token}`,
    ...request.headers,
  };
  if (request.body !== undefined) headers['Content-Type'] = 'application/json';

  let response: Response;
  let text: string;
  try {
    response = await transport.fetch(url, {
      method: request.method,
      headers,
      body: request.body === undefined ? null : JSON.stringify(request.body),
      signal,
    });
    text = await response.text();
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason ?? err;
    if (timeout.aborted) {
      throw new HooklaneError(0, 'timeout', `${request.method} ${request.path} took longer than ${timeoutMs} ms`, [], { cause: err });
    }
    throw new HooklaneError(0, 'network_error', `${request.method} ${request.path} failed: ${(err as Error).message}`, [], {
      cause: err,
    });
  }
  if (!response.ok) throw errorFromBody(response.status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Logger } from 'pino';

export interface ErrorDetail {
  path: string;
  message: string;
}

/** An error a client caused or should see; everything else becomes a 500 with no detail. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, details: ErrorDetail[] = []) =>
  new HttpError(400, 'validation_error', message, details);
export const unauthorized = (message = 'Missing or invalid bearer token') => new HttpError(401, 'unauthorized', message);
export const forbidden = (message = 'Not allowed for this token') => new HttpError(403, 'forbidden', message);
export const notFound = (what = 'Resource') => new HttpError(404, 'not_found', `${what} not found`);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);
export const unavailable = (message = 'A backing service is unavailable, try again shortly') =>
  new HttpError(503, 'service_unavailable', message);

export function errorBody(code: string, message: string, details: ErrorDetail[] = []) {
  return { error: { code, message, details } };
}

const UNAVAILABLE_CODES = new Set([
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P03',
]);

/** True for errors that mean PostgreSQL or Redis could not be reached, which deserve a 503. */
export function isUnavailableError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
  if (e.name === 'PrismaClientInitializationError') return true;
  const message = typeof e.message === 'string' ? e.message : '';
  // "Query read timeout": pg's client-side query_timeout, when an open connection went silent.
  if (/ECONNREFUSED|Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Can't reach database|Stream isn't writeable|Connection is closed|enableOfflineQueue/i.test(message)) {
    return true;
  }
  return e.cause !== undefined && e.cause !== err && isUnavailableError(e.cause);
}

/** Body-parser and Express raise errors with `type`/`status`; they are the client's fault. */
function fromFrameworkError(err: unknown): HttpError | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { type?: unknown; status?: unknown };
  switch (e.type) {
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', 'Request body is larger than 1 MiB');
    case 'entity.parse.failed':
      return badRequest('Request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_media_type', 'Unsupported body encoding');
    case 'request.aborted':
      return new HttpError(400, 'validation_error', 'Request aborted');
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new HttpError(e.status, 'bad_request', 'Malformed request');
  }
  return undefined;
}

/**
 * What of an unexpected error may be logged. Prisma's validation errors print the whole
 * call, arguments included, into their message and stack (a webhook's secret and header
 * values among them), so only their last line, which names the problem, is kept.
 */
export function loggableError(err: unknown): unknown {
  if (!(err instanceof Error) || err.name !== 'PrismaClientValidationError') return err;
  const lines = err.message.trim().split('\n');
  return { type: err.name, message: lines[lines.length - 1] ?? '' };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = err instanceof HttpError ? err : fromFrameworkError(err);
    if (known) {
      res.status(known.status).json(errorBody(known.code, known.message, known.details));
      return;
    }
    if (isUnavailableError(err)) {
      const { message } = loggableError(err) as { message?: unknown };
      logger.warn({ err: { message }, path: req.path }, 'backing service unavailable');
      res.status(503).json(errorBody('service_unavailable', 'A backing service is unavailable, try again shortly'));
      return;
    }
    logger.error({ err: loggableError(err), path: req.path, method: req.method }, 'unhandled error');
    res.status(500).json(errorBody('internal_error', 'Internal server error'));
  };
}

export const notFoundRoute: RequestHandler = (_req, res) => {
  res.status(404).json(errorBody('not_found', 'No such route'));
};

/**
 * The methods a route answers, for `Allow` (RFC 9110 requires it on a 405). Read from the
 * route this handler is mounted on (`.all(methodNotAllowed)`), so it cannot drift from the
 * routes; Express answers HEAD for every GET. Outside a route (a `use` guard such as /docs)
 * only reading is allowed.
 */
function allowedMethods(req: Request): string {
  const methods = (req.route as { methods?: Record<string, boolean> } | undefined)?.methods;
  if (!methods) return 'GET, HEAD';
  const names = new Set(Object.keys(methods).filter((name) => name !== '_all' && methods[name]).map((name) => name.toUpperCase()));
  if (names.has('GET')) names.add('HEAD');
  return [...names].sort().join(', ');
}

export const methodNotAllowed: RequestHandler = (req, res) => {
  res.set('Allow', allowedMethods(req));
  res.status(405).json(errorBody('method_not_allowed', `Method ${req.method} is not allowed on this route`));
};

import type { RequestHandler } from 'express';
import { tokensEqual } from './auth.js';
import { errorBody } from './errors.js';

/**
 * `/metrics` tells anyone who reads it the event types, volumes and queue depths of every
 * team. With METRICS_TOKEN set it asks for `Authorization: Bearer <token>` (what Prometheus
 * sends with `authorization: {credentials_file: ...}`); unset, it stays open as in v1.
 */
export function requireMetricsToken(token: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (token === undefined) return next();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (match?.[1] !== undefined && tokensEqual(match[1], token)) return next();
    res.set('WWW-Authenticate', 'Bearer').status(401).json(errorBody('unauthorized', 'Missing or invalid METRICS_TOKEN bearer token'));
  };
}

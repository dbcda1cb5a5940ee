import express, { type RequestHandler } from 'express';
import { HttpError } from './errors.js';

export const BODY_LIMIT = '1mb';

const jsonParser = express.json({ limit: BODY_LIMIT, strict: true, type: () => true });

/**
 * Every body must be JSON: a body of another type is a 415 rather than being silently
 * ignored, and requests without a body (GET, DELETE, an empty POST) pass through.
 */
export const jsonBody: RequestHandler = (req, res, next) => {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (!hasBody) {
    req.body = undefined;
    return next();
  }
  if (!req.is('application/json') && !req.is('application/*+json')) {
    return next(new HttpError(415, 'unsupported_media_type', 'Request body must be application/json'));
  }
  jsonParser(req, res, next);
};

import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The one redaction list of every Hooklane process. A log line must never carry a token, a
 * signing secret (current or previous) or a webhook's custom header values (they often hold
 * the receiver's credentials), even when a careless call passes a whole row or request.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'authorization',
  '*.authorization',
  'secret',
  '*.secret',
  'previousSecret',
  '*.previousSecret',
  'key',
  '*.key',
  'headers',
  '*.headers',
];

export function createLogger(level: string, name: string, destination?: DestinationStream): Logger {
  const options = { name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

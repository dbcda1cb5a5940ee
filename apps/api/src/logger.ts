import { pino, type Logger } from 'pino';

// Paths a log line might carry that must never reach the logs: tokens, secrets and the
// values of a webhook's custom headers (they often hold the receiver's credentials).
export const REDACT_PATHS = [
  'req.headers.authorization',
  'authorization',
  'secret',
  'key',
  '*.secret',
  '*.key',
  'headers',
  '*.headers',
  'previousSecret',
  '*.previousSecret',
];

export function createLogger(level: string, name = 'hooklane-api'): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}

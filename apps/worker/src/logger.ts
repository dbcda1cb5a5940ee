import { pino, type Logger } from 'pino';

// A log line must never carry a signing secret or a webhook's custom header values (they
// often hold the receiver's credentials), even if a careless call passes the whole row.
export const REDACT_PATHS = [
  'secret',
  'previousSecret',
  'headers',
  '*.secret',
  '*.previousSecret',
  '*.headers',
  'authorization',
  '*.authorization',
];

export function createLogger(level: string, name = 'hooklane-worker'): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}

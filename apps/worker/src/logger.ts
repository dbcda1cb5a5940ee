import type { DestinationStream, Logger } from 'pino';
import { createLogger as createSharedLogger } from '@hooklane/observability';

export { REDACT_PATHS } from '@hooklane/observability';

/** The worker's logger: the shared factory and redaction list (packages/observability). */
export function createLogger(level: string, destination?: DestinationStream, name = 'hooklane-worker'): Logger {
  return createSharedLogger(level, name, destination);
}

export { createLogger, REDACT_PATHS } from './logger.js';

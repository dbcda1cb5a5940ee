import { describe, expect, it } from '@jest/globals';
import { createLogger as apiLogger } from '../../../apps/api/src/logger.js';
import { createLogger as workerLogger } from '../../../apps/worker/src/logger.js';

// Every field that can carry a credential, at the top level and one level down (a whole row
// or request passed to a log call), must come out as "[redacted]" from both processes.
const SECRET_FIELDS = ['authorization', 'secret', 'previousSecret', 'key', 'headers'];
const VALUE = 'credential-value-3f9a1c77';

function linesOf(make: (level: string, destination: { write(line: string): void }) => { info(o: object, m: string): void }) {
  const lines: string[] = [];
  const logger = make('info', { write: (line) => void lines.push(line) });
  for (const field of SECRET_FIELDS) {
    logger.info({ [field]: VALUE }, 'top level');
    logger.info({ webhook: { [field]: VALUE } }, 'nested');
  }
  logger.info({ req: { headers: { authorization: `Bearer ${VALUE}` } } }, 'request');
  return lines;
}

describe.each([
  ['api', apiLogger],
  ['worker', workerLogger],
])('the %s logger', (_name, make) => {
  it('redacts every secret-bearing field, top level and nested', () => {
    const lines = linesOf(make);
    expect(lines).toHaveLength(SECRET_FIELDS.length * 2 + 1);
    for (const line of lines) {
      expect(line).not.toContain(VALUE);
      expect(line).toContain('[redacted]');
    }
  });
});

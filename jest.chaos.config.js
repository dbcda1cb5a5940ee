// Chaos tests break things on purpose (cut PostgreSQL, kill Redis, kill workers) and take
// minutes, so they run apart from `npm test`: `npm run test:chaos`, one file at a time.
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  testMatch: ['**/test/chaos/**/*.chaos.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 180000,
  maxWorkers: 1,
};

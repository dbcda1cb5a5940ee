import type { BenchDatabase } from './database.js';
import type { Receiver } from './children/receiver-client.js';
import type { BenchSettings } from './settings.js';

/** What every scenario gets: the run's settings, its database and the receivers. */
export interface BenchContext {
  runId: string;
  settings: BenchSettings;
  db: BenchDatabase;
  receiver: Receiver;
}

/** A `ping` data object padded so that the envelope a receiver gets is about `bytes` long. */
export function paddedData(bytes: number): Record<string, unknown> {
  // The envelope's fixed part (ids, timestamp, team/project, keys) is about 200 bytes.
  const fixed = 202;
  return { message: 'x'.repeat(Math.max(0, bytes - fixed)) };
}

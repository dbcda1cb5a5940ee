import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

export type Db = PrismaClient;

export interface DbOptions {
  /** How long to wait for a connection before failing: an unreachable database must turn into a 503, not a hang. */
  connectionTimeoutMs?: number;
  /** Longest a single statement may run. */
  statementTimeoutMs?: number;
  poolSize?: number;
}

export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 3000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    max: options.poolSize ?? 10,
  });
  return new PrismaClient({ adapter });
}

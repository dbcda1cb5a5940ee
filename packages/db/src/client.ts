import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

export type Db = PrismaClient;

export interface DbOptions {
  /** How long to wait for a connection before failing: an unreachable database must turn into a 503, not a hang. */
  connectionTimeoutMs?: number;
  /** Longest a single statement may run. */
  statementTimeoutMs?: number;
  /**
   * Client-side limit on waiting for a query's answer. The statement timeout is enforced
   * by the server, so it cannot help when the server (or the network) goes silent on an
   * open connection; this can. Defaults to the statement timeout plus one second, so a
   * live server always reports its own cancellation first.
   */
  queryTimeoutMs?: number;
  poolSize?: number;
}

export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const statementTimeoutMs = options.statementTimeoutMs ?? 10_000;
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 3000,
    statement_timeout: statementTimeoutMs,
    query_timeout: options.queryTimeoutMs ?? statementTimeoutMs + 1000,
    // Lets the kernel notice a peer that vanished without a FIN on an idle pooled connection.
    keepAlive: true,
    max: options.poolSize ?? 10,
  });
  return new PrismaClient({ adapter });
}

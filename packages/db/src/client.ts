import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient, type Prisma } from './generated/prisma/client.js';

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

// The pool behind each client, for the hot-path statements that skip Prisma (see `sql`).
const pools = new WeakMap<object, pg.Pool>();

export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const statementTimeoutMs = options.statementTimeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 3000,
    statement_timeout: statementTimeoutMs,
    query_timeout: options.queryTimeoutMs ?? statementTimeoutMs + 1000,
    // Lets the kernel notice a peer that vanished without a FIN on an idle pooled connection.
    keepAlive: true,
    max: options.poolSize ?? 10,
  });
  // An idle connection the server dropped is already out of the pool; without a listener
  // the event would crash the process.
  pool.on('error', () => {});
  // Prisma and the raw statements share this one pool, so `poolSize` is the process's total.
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  // Prisma ends the pool only if it ever connected; the raw statements may have used it alone.
  const disconnect = db.$disconnect.bind(db);
  Object.defineProperty(db, '$disconnect', {
    value: async () => {
      await disconnect();
      if (!(pool as pg.Pool & { ended?: boolean }).ended) await pool.end();
    },
  });
  pools.set(db, pool);
  return db;
}

/**
 * Runs a statement with positional parameters straight on the client's pg pool. Passing
 * large arrays through Prisma's raw query layer cost several times the statement itself
 * (500 events: ~45 ms against ~12 ms) and ~9% of a worker's CPU, so the hot paths (ingest,
 * delivery load, attempt write) use this. A client that did not come from `createDb` (a
 * transaction, a test double) falls back to Prisma with the same text and parameters.
 */
export async function sql<T>(db: Db | SqlTransaction, text: string, params: unknown[]): Promise<T[]> {
  if (isPgTransaction(db)) return (await db[PG_CLIENT].query(text, params)).rows as T[];
  const pool = pools.get(db);
  if (pool) return (await pool.query(text, params)).rows as T[];
  return db.$queryRawUnsafe<T[]>(text, ...params);
}

/** Resolves once PostgreSQL answers `SELECT 1` on the client's pool (the worker's outage probe). */
export async function pingDatabase(db: Db): Promise<void> {
  await sql(db, 'SELECT 1', []);
}

const PG_CLIENT = Symbol('pg client of a transaction');

function isPgTransaction(db: Db | SqlTransaction): db is PgTransaction {
  // A plain object of ours; Prisma's clients are proxies that never hold this symbol.
  return Object.getPrototypeOf(db) === PgTransactionProto;
}

const PgTransactionProto = {};

/** A transaction on one of the pool's connections, for `sql` only (no Prisma model calls). */
export interface PgTransaction {
  readonly [PG_CLIENT]: pg.PoolClient;
}

/** What `sql` runs in: a transaction of `withPgTransaction`, or a Prisma interactive one. */
export type SqlTransaction = PgTransaction | Prisma.TransactionClient;

/**
 * Runs `run` in a transaction straight on the client's pg pool: BEGIN, the statements, COMMIT
 * (ROLLBACK on any error, and the connection is discarded if it broke). For the short hot-path
 * transactions that hold a fifo line's lock, where Prisma's interactive transaction cost
 * several times the statements themselves. A client not made by `createDb` (a test double)
 * gets Prisma's transaction instead.
 */
export async function withPgTransaction<T>(db: Db, run: (tx: SqlTransaction) => Promise<T>): Promise<T> {
  const pool = pools.get(db);
  if (!pool) return db.$transaction((tx) => run(tx));
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const tx: PgTransaction = Object.assign(Object.create(PgTransactionProto) as object, { [PG_CLIENT]: client });
    const result = await run(tx);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    client.release(rolledBack ? undefined : true);
    throw err;
  }
}

/**
 * True for a client made by `createDb`, false for a transaction's client (whose proxy still
 * answers to `$transaction`, opening an unrelated transaction rather than nesting).
 */
export function isRootClient(db: Db | Prisma.TransactionClient): db is Db {
  return pools.has(db);
}

import type pg from 'pg';

/**
 * The day partitions of events, deliveries and attempts (see the partition_by_time
 * migration): listing them, and creating them ahead of time. Everything here runs on one
 * dedicated connection (`pg.ClientBase`), the one holding the retention lock.
 */

export const PARTITIONED_TABLES = ['events', 'deliveries', 'attempts'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** The id prefix each table's partition key carries (attempts are keyed by their delivery's id). */
export const KEY_PREFIX: Record<PartitionedTable, string> = { events: 'evt', deliveries: 'dlv', attempts: 'dlv' };

export interface Partition {
  table: PartitionedTable;
  name: string;
  /** What follows `<table>_`: `p20261203`, `legacy` or `default`. */
  suffix: string;
  /** Lowest id it holds; null for MINVALUE (the legacy partition) and the default partition. */
  from: string | null;
  /** First id past it; null for the default partition. */
  to: string | null;
}

const DAY_MS = 86_400_000;
const SAFE_NAME = /^[a-z_0-9]+$/;
const SAFE_BOUND = /^[A-Za-z0-9_]+$/;

export function startOfUtcDay(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

export function daySuffix(day: Date): string {
  return `p${day.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** The lowest id made at `at` for a prefix (the migration's SQL function, so both always agree). */
export async function idBound(client: pg.ClientBase, prefix: string, at: Date): Promise<string> {
  const { rows } = await client.query<{ b: string }>('SELECT hooklane_id_bound($1, $2) AS b', [prefix, at]);
  return rows[0]!.b;
}

export async function listPartitions(client: pg.ClientBase): Promise<Partition[]> {
  const { rows } = await client.query<{ parent: string; name: string; bound: string }>(
    `SELECT p.relname AS parent, c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace AND n.nspname = current_schema()
      WHERE p.relname = ANY($1::text[]) AND c.relkind IN ('r', 'p')
      ORDER BY c.relname`,
    [[...PARTITIONED_TABLES]],
  );
  return rows.map((r) => {
    const table = r.parent as PartitionedTable;
    const range = /FROM \((?:'([^']*)'|MINVALUE)\) TO \((?:'([^']*)'|MAXVALUE)\)/.exec(r.bound);
    return {
      table,
      name: r.name,
      suffix: r.name.startsWith(`${table}_`) ? r.name.slice(table.length + 1) : r.name,
      from: range?.[1] ?? null,
      to: range ? (range[2] ?? null) : null,
    };
  });
}

export interface EnsureResult {
  created: string[];
  /** Day partitions that could not be made, with why (an overlap with the legacy range, rows already in the default partition). */
  skipped: Array<{ name: string; reason: string }>;
}

/**
 * Creates the day partitions from `from` (a UTC day) through `days` days after it that do not
 * exist yet. A day the legacy partition already covers, or whose ids some rows in the default
 * partition already hold, is skipped: its rows simply stay where they are.
 */
export async function ensureDayPartitions(client: pg.ClientBase, from: Date, days: number, lockTimeoutMs: number): Promise<EnsureResult> {
  const existing = new Set((await listPartitions(client)).map((p) => p.name));
  const result: EnsureResult = { created: [], skipped: [] };
  for (let i = 0; i <= days; i++) {
    const day = new Date(startOfUtcDay(from).getTime() + i * DAY_MS);
    const next = new Date(day.getTime() + DAY_MS);
    for (const table of PARTITIONED_TABLES) {
      const name = `${table}_${daySuffix(day)}`;
      if (existing.has(name)) continue;
      const lo = await idBound(client, KEY_PREFIX[table], day);
      const hi = await idBound(client, KEY_PREFIX[table], next);
      if (!SAFE_NAME.test(name) || !SAFE_BOUND.test(lo) || !SAFE_BOUND.test(hi)) throw new Error(`unexpected partition name or bound for ${name}`);
      try {
        await inTransaction(client, lockTimeoutMs, () =>
          client.query(`CREATE TABLE "${name}" PARTITION OF "${table}" FOR VALUES FROM ('${lo}') TO ('${hi}')`),
        );
        result.created.push(name);
      } catch (err) {
        result.skipped.push({ name, reason: (err as Error).message });
      }
    }
  }
  return result;
}

/**
 * Runs `fn` in a transaction whose lock waits are capped: creating or dropping a partition
 * locks the parent table, and a DDL statement queued behind a long query would make every
 * ingest and delivery queue behind it in turn. Better to give up and try on the next run.
 */
export async function inTransaction<T>(client: pg.ClientBase, lockTimeoutMs: number, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    const value = await fn();
    await client.query('COMMIT');
    return value;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ADMIN_DATABASE_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string, base = ADMIN_DATABASE_URL): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// CREATE DATABASE ... TEMPLATE fails when another session copies the same template at the
// same moment, so parallel test files take turns through an advisory lock.
const TEMPLATE_LOCK = 72_410_001;

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(label = 't'): Promise<TestDatabase> {
  const template = process.env.HOOKLANE_TEST_TEMPLATE_DB;
  if (!template) throw new Error('HOOKLANE_TEST_TEMPLATE_DB is unset: run tests through jest (test/global-setup.mjs)');
  const safeLabel = label.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 20);
  const name = `hl_${safeLabel}_${randomBytes(5).toString('hex')}`;
  await withAdminClient(async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    try {
      await client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
    }
  });
  return {
    name,
    url: databaseUrl(name),
    // PostgreSQL may be at max_connections while other suites run; a few tries keep the database from leaking.
    async drop() {
      for (let attempt = 1; ; attempt++) {
        try {
          return await withAdminClient(async (client) => {
            await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          });
        } catch (err) {
          if (attempt >= 5) throw err;
          await new Promise((resolve) => setTimeout(resolve, 2_000 * attempt));
        }
      }
    },
  };
}

import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createDb } from '../src/index.js';
import { databaseUrl, withAdminClient } from '../../../test/support/postgres.js';

const name = `hl_migrate_${process.pid}_${Date.now()}`;
const url = databaseUrl(name);

function prisma(args: string[]): string {
  return execFileSync('npx', ['prisma', ...args], {
    env: { ...process.env, DATABASE_URL: url },
    encoding: 'utf8',
    stdio: 'pipe',
  });
}

afterAll(async () => {
  await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
});

describe('migrations', () => {
  it('create the database when missing, apply cleanly, and leave no drift', async () => {
    const deploy = prisma(['migrate', 'deploy']);
    expect(deploy).toMatch(/applied|No pending migrations/);

    const status = prisma(['migrate', 'status']);
    expect(status).toMatch(/Database schema is up to date/);

    // The schema file and the migrations describe the same database.
    const diff = prisma([
      'migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema', 'prisma/schema.prisma', '--exit-code',
    ]);
    expect(diff).toMatch(/No difference|empty migration/i);

    const db = createDb(url);
    try {
      const tables = await db.$queryRaw<{ table_name: string }[]>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`;
      expect(tables.map((t) => t.table_name)).toEqual(
        expect.arrayContaining(['api_keys', 'attempts', 'deliveries', 'events', 'webhooks']),
      );
    } finally {
      await db.$disconnect();
    }
  }, 120_000);
});

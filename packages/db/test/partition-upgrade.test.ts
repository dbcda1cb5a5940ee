import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createDb, insertEventsWithFanOut, listPartitions, runRetentionOn } from '../src/index.js';
import { databaseUrl, withAdminClient } from '../../../test/support/postgres.js';

/**
 * `npm run db:migrate` on a v1 database that holds data: everything is still there after
 * the partitioning migration, byte for byte, and keeps working (idempotency keys, retention).
 */

const root = resolve(import.meta.dirname, '../../..');
const INIT = '20261122101812_init';
const name = `hl_upgrade_${process.pid}_${Date.now()}`;
const url = databaseUrl(name);
const work = mkdtempSync(join(tmpdir(), 'hl-upgrade-'));
const DAY = 86_400_000;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
});

function migrate(cwd: string, command = 'deploy'): string {
  return execFileSync('npx', ['prisma', 'migrate', command], { cwd, env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8', stdio: 'pipe' });
}

/** A project holding only the first migration: what a v1 install ran. */
function v1Project(): string {
  cpSync(join(root, 'prisma/migrations', INIT), join(work, 'prisma/migrations', INIT), { recursive: true });
  cpSync(join(root, 'prisma/migrations/migration_lock.toml'), join(work, 'prisma/migrations/migration_lock.toml'));
  cpSync(join(root, 'prisma/schema.prisma'), join(work, 'prisma/schema.prisma'));
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
  writeFileSync(
    join(work, 'prisma.config.ts'),
    `import { defineConfig } from 'prisma/config';\nexport default defineConfig({ schema: 'prisma/schema.prisma', migrations: { path: 'prisma/migrations' }, datasource: { url: process.env.DATABASE_URL } });\n`,
  );
  return work;
}

function idAt(prefix: string, at: number, n: number): string {
  let time = '';
  for (let i = 0, rest = at; i < 10; i++, rest = Math.floor(rest / 32)) time = CROCKFORD[rest % 32] + time;
  return `${prefix}_${time}${String(n).padStart(16, '0')}`;
}

async function seedV1(client: pg.Client): Promise<void> {
  const now = Date.now();
  await client.query(
    `INSERT INTO webhooks (id, team_id, url, events, secret, updated_at) VALUES ('wh_A', 1, 'http://a.test/', '{*}', 'sa', now()), ('wh_B', 2, 'http://b.test/', '{ping}', 'sb', now())`,
  );
  for (let i = 0; i < 120; i++) {
    const at = now - (i % 40) * DAY - i * 1000; // spread over the last 40 days
    const evt = idAt('evt', at, i);
    const key = i % 10 === 0 ? `key-${i}` : null;
    const keyExpires = key === null ? null : new Date(i < 40 ? now + DAY : now - DAY); // some keys still live
    await client.query(
      `INSERT INTO events (id, team_id, type, "timestamp", data, sender, idempotency_key, idempotency_expires_at, created_at)
       VALUES ($1, $2, 'ping', $3, $4, $5, $6, $7, $3)`,
      [evt, 1 + (i % 2), new Date(at), JSON.stringify({ i, nested: { text: 'é"\\' } }), i % 3 ? null : '{"s":1}', key, keyExpires],
    );
    const status = ['pending', 'succeeded', 'failed', 'cancelled'][i % 4];
    const dlv = idAt('dlv', at, i);
    await client.query(
      `INSERT INTO deliveries (id, team_id, webhook_id, event_id, event_type, status, attempts, next_attempt_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'ping', $5::"DeliveryStatus", 1, $6, $6, $6)`,
      [dlv, 1 + (i % 2), i % 2 ? 'wh_B' : 'wh_A', evt, status, new Date(at)],
    );
    await client.query(
      `INSERT INTO attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, response_body, error)
       VALUES ($1, $2, 1, $3, 12, 500, 'answer body', NULL)`,
      [idAt('att', at, i), dlv, new Date(at)],
    );
  }
}

const TABLES = { webhooks: 'id', events: 'id', deliveries: 'id', attempts: 'id', api_keys: 'id' } as const;

async function snapshot(client: pg.Client): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, key] of Object.entries(TABLES)) {
    // Columns that later migrations add (with their defaults) are not part of what v1 stored.
    out[table] = (await client.query(`SELECT to_jsonb(t) - 'ordering' - 'ordering_key' AS row FROM ${table} t ORDER BY ${key}`)).rows.map((r) => r.row);
  }
  return out;
}

describe('upgrading a populated v1 database', () => {
  it('keeps every row, attaches the old tables as the legacy partition, and keeps working', async () => {
    migrate(v1Project());
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await seedV1(client);
      const before = await snapshot(client);
      expect(before.events).toHaveLength(120);

      migrate(root);
      expect(migrate(root, 'status')).toMatch(/Database schema is up to date/);
      const after = await snapshot(client);
      expect(after).toEqual(before);

      const partitions = await listPartitions(client);
      expect(partitions.filter((p) => p.suffix === 'legacy').map((p) => p.table).sort()).toEqual(['attempts', 'deliveries', 'events']);
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM events_legacy`);
      expect(rows[0].n).toBe(120);

      // A v1 idempotency key still live holds; an expired one starts a new event.
      const db = createDb(url);
      const fresh = idAt('evt', Date.now(), 1002);
      try {
        const stored = await insertEventsWithFanOut(db, {
          now: new Date(),
          idempotencyTtlMs: DAY,
          events: [
            { id: idAt('evt', Date.now(), 1001), teamId: 1, projectId: null, type: 'ping', timestamp: new Date(), data: {}, sender: null, idempotencyKey: 'key-0' },
            { id: fresh, teamId: 1, projectId: null, type: 'ping', timestamp: new Date(), data: {}, sender: null, idempotencyKey: 'key-100' },
          ],
        });
        expect(stored.map((s) => s.eventId)).toEqual([fresh]);
        expect(stored[0]?.deliveries).toHaveLength(1); // fanned out to wh_A (team 1, every type)
      } finally {
        await db.$disconnect();
      }

      // Retention 60 days on: the legacy partition still holds pending deliveries, so it stays whole.
      const run = await runRetentionOn(url, { now: new Date(Date.now() + 60 * DAY), retentionDays: 30, daysAhead: 0, lockTimeoutMs: 1000 });
      expect(run.days.find((d) => d.suffix === 'legacy')).toMatchObject({ outcome: 'kept', pending: 31 }); // 30 seeded, 1 made just now (today is legacy too)
      expect((await client.query(`SELECT count(*)::int AS n FROM events_legacy`)).rows[0].n).toBe(121);
    } finally {
      await client.end();
    }
  }, 180_000);
});

// Migrations run once into a template database named after their hash; every test file
// then copies it (CREATE DATABASE ... TEMPLATE), which takes milliseconds instead of a
// migrate per file. Plain JS because jest loads global setup outside its transforms.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const BUILD_LOCK = 72_410_002;

function templateName() {
  const dir = join(root, 'prisma', 'migrations');
  const hash = createHash('sha256');
  for (const entry of readdirSync(dir).sort()) {
    if (entry.endsWith('.toml')) continue;
    hash.update(entry);
    hash.update(readFileSync(join(dir, entry, 'migration.sql')));
  }
  return `hooklane_tpl_${hash.digest('hex').slice(0, 12)}`;
}

export default async function globalSetup() {
  const template = templateName();
  process.env.HOOKLANE_TEST_TEMPLATE_DB = template;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [BUILD_LOCK]);
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (found.rowCount) return;
    const building = `${template}_building`;
    await client.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
    const url = new URL(adminUrl);
    url.pathname = `/${building}`;
    execFileSync('npx', ['prisma', 'migrate', 'deploy'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url.toString() },
      stdio: 'pipe',
    });
    await client.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [BUILD_LOCK]).catch(() => {});
    await client.end();
  }
}

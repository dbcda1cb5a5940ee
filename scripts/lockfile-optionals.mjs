#!/usr/bin/env node
// npm leaves an optional platform package out of package-lock.json when the registry it
// talks to does not serve that build (some mirrors carry only the builds for their own
// platform), and `npm ci` then refuses the lock as out of sync. This adds a bare entry
// (name and version) for each such package, which is what npm itself records when it
// omits resolved URLs; npm ci skips or fetches them like any optional dependency.
// Run after `npm install` changes the lock: `node scripts/lockfile-optionals.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;

/** Where node would find `name` from the package installed at `from` (walking up node_modules). */
function resolves(from, name) {
  let dir = from;
  for (;;) {
    if (packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    if (!dir) return false;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut === -1 ? '' : dir.slice(0, cut);
  }
}

let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    if (resolves(location, name)) continue;
    packages[`node_modules/${name}`] = { version, ...(entry.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lockfile-optionals: added ${added} missing optional entr${added === 1 ? 'y' : 'ies'}`);

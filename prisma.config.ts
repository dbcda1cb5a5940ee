import { defineConfig } from 'prisma/config';

// process.env rather than Prisma's env(): env() throws when the variable is unset,
// which would break `prisma generate` during `npm ci` on a machine with no database yet.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:5432/hooklane',
  },
});

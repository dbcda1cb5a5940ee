# syntax=docker/dockerfile:1
# One image for every role; the command picks it:
#   node apps/api/dist/main.js      (= npm run start:api, the default)
#   node --max-semi-space-size=8 apps/worker/dist/main.js   (= npm run start:worker)
#   npm run db:migrate
# e.g. `docker run --rm -e DATABASE_URL=... hooklane npm run db:migrate`.
# Long-running roles start node directly: `npm run` passes SIGTERM to the shell it spawns,
# not to node, so behind npm a `docker stop` would kill a worker without its graceful drain.

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS base
# openssl: Prisma's schema engine (migrate) detects the OpenSSL version at start.
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    TURBO_TELEMETRY_DISABLED=1
WORKDIR /app

# Manifests first, so `npm ci` stays cached until a dependency changes. Its postinstall runs
# `prisma generate`, which needs the schema and prisma.config.ts, hence those too.
FROM base AS deps
COPY package.json package-lock.json .npmrc prisma.config.ts ./
COPY prisma ./prisma
COPY packages/core/package.json packages/core/
COPY packages/db/package.json packages/db/
COPY packages/queue/package.json packages/queue/
COPY packages/sdk/package.json packages/sdk/
COPY packages/observability/package.json packages/observability/
COPY packages/eslint-config/package.json packages/eslint-config/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/dashboard/package.json apps/dashboard/
# bench is a workspace too: without its manifest npm ci does not match the lockfile.
COPY bench/package.json bench/
RUN npm ci

FROM deps AS build
COPY tsconfig.json turbo.json ./
COPY packages ./packages
COPY apps ./apps
RUN npm run build

# Runtime: compiled output, manifests, the Prisma schema and migrations, and node_modules.
# node_modules keeps the dev dependencies because `npm run db:migrate` needs the prisma CLI
# (a devDependency) and its downloaded schema engine; sources and tests stay out.
FROM base AS runtime
ENV NODE_ENV=production
COPY --from=build /app/package.json /app/package-lock.json /app/prisma.config.ts ./
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages/core/package.json ./packages/core/
COPY --from=build /app/packages/core/dist ./packages/core/dist
COPY --from=build /app/packages/db/package.json ./packages/db/
COPY --from=build /app/packages/db/dist ./packages/db/dist
COPY --from=build /app/packages/queue/package.json ./packages/queue/
COPY --from=build /app/packages/queue/dist ./packages/queue/dist
COPY --from=build /app/packages/sdk/package.json ./packages/sdk/
COPY --from=build /app/packages/sdk/dist ./packages/sdk/dist
COPY --from=build /app/packages/observability/package.json ./packages/observability/
COPY --from=build /app/packages/observability/dist ./packages/observability/dist
COPY --from=build /app/apps/api/package.json ./apps/api/
COPY --from=build /app/apps/api/dist ./apps/api/dist
COPY --from=build /app/apps/worker/package.json ./apps/worker/
COPY --from=build /app/apps/worker/dist ./apps/worker/dist
# The dashboard's static build, served by the API at /portal.
COPY --from=build /app/apps/dashboard/package.json ./apps/dashboard/
COPY --from=build /app/apps/dashboard/dist ./apps/dashboard/dist

# The image's `node` user (uid 1000); nothing under /app needs to be writable.
USER node
EXPOSE 3000 9464
# No image-level HEALTHCHECK: the API and the worker answer on different ports, so each
# orchestrator entry (docker-compose.yml, deploy/k8s) declares its own probe.
CMD ["node", "apps/api/dist/main.js"]

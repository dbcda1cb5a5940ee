-- How this file is written: Prisma applies a migration one statement at a time, cutting the
-- text at every semicolon, quotes and comments included. So no comment here holds one, and
-- the PL/pgSQL bodies are E-strings with each semicolon inside written as the escape \073.
-- Time partitioning of the three big tables (issue 15). Prisma cannot describe partitions,
-- so this file is hand-written, prisma/schema.prisma describes the parent tables exactly as
-- they end up here (prisma migrate diff shows no drift, packages/db/test/migrations.test.ts).
--
-- Partition key: the id. Ids are ULIDs behind a type prefix (packages/core/src/ids.ts): their
-- first ten characters after the prefix are the creation time in milliseconds, so a range of
-- ids is a range of time, and the key is already the primary key: lookups by id (every hot
-- path) are pruned to one partition, and events.id / deliveries.id stay unique alone.
-- Attempts are partitioned by delivery_id, so they fall in the same day as their delivery
-- and a day is dropped as a unit. Day partitions are <table>_pYYYYMMDD, created ahead by
-- the workers (packages/db/src/retention-partitions.ts), <table>_default takes any id no
-- day partition covers (a malformed id, a clock far off), so an insert never fails for want
-- of a partition. An existing v1 table becomes one partition, <table>_legacy, covering
-- every id before tomorrow: attached, not copied, so upgrading costs a scan, not a rewrite.
--
-- Foreign keys between the partitioned tables are gone: one referencing a partitioned table
-- makes dropping or detaching a referenced partition scan the referencing table, which is
-- what partitioning is meant to avoid. What they guaranteed is kept by how rows are written
-- and removed: deliveries are inserted by the statement that inserts or reads their event,
-- attempts by the statement that updates their pending delivery, erasure deletes attempts,
-- deliveries, events in that order in one transaction, retention drops the same day of all
-- three together. The schema says relationMode = "prisma" for that reason, which in Prisma
-- is all or nothing: the key deliveries -> webhooks goes too (Prisma would otherwise see drift).
-- Webhooks are only soft-deleted, except by a team erasure, which deletes the team's
-- deliveries in the same transaction and sweeps once more after it (erasure-queries.ts).
--
-- Idempotency keys: a unique index on a partitioned table must contain the partition key, so
-- (team_id, idempotency_key) cannot be unique on events any more. The claim moves to the
-- plain table idempotency_keys (primary key team + key), taken by a BEFORE INSERT trigger on
-- events: a key held by a live event makes the trigger skip the row, exactly as ON CONFLICT
-- DO NOTHING on the old unique index did (a concurrent twin waits for the first to commit).

-- Ids for a time: the prefix and the ten time characters of a ULID, the lower bound of
-- every id made from that millisecond on.
CREATE FUNCTION "hooklane_id_bound"(prefix TEXT, ts TIMESTAMPTZ) RETURNS TEXT
LANGUAGE sql IMMUTABLE STRICT AS
'SELECT prefix || ''_'' || string_agg(substr(''0123456789ABCDEFGHJKMNPQRSTVWXYZ'', ((floor(extract(epoch FROM ts) * 1000)::bigint >> (5 * i)) & 31)::int + 1, 1), '''' ORDER BY i DESC) FROM generate_series(0, 9) AS i';

CREATE TABLE "idempotency_keys" (
    "team_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("team_id","key")
);
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");
CREATE INDEX "idempotency_keys_event_id_idx" ON "idempotency_keys"("event_id");

INSERT INTO "idempotency_keys" ("team_id", "key", "event_id", "expires_at")
SELECT "team_id", "idempotency_key", "id", "idempotency_expires_at"
  FROM "events"
 WHERE "idempotency_key" IS NOT NULL AND "idempotency_expires_at" > now()
ON CONFLICT DO NOTHING;

ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_event_id_fkey";
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_webhook_id_fkey";
ALTER TABLE "attempts" DROP CONSTRAINT "attempts_delivery_id_fkey";

-- The v1 tables step aside under new names (their indexes too: index names are per schema).
ALTER TABLE "events" RENAME TO "events_legacy";
ALTER INDEX "events_pkey" RENAME TO "events_legacy_pkey";
ALTER INDEX "events_team_id_created_at_idx" RENAME TO "events_legacy_team_id_created_at_idx";
DROP INDEX "events_team_id_idempotency_key_key";
ALTER TABLE "deliveries" RENAME TO "deliveries_legacy";
ALTER INDEX "deliveries_pkey" RENAME TO "deliveries_legacy_pkey";
ALTER INDEX "deliveries_webhook_id_created_at_id_idx" RENAME TO "deliveries_legacy_webhook_id_created_at_id_idx";
ALTER INDEX "deliveries_status_next_attempt_at_idx" RENAME TO "deliveries_legacy_status_next_attempt_at_idx";
ALTER INDEX "deliveries_event_id_idx" RENAME TO "deliveries_legacy_event_id_idx";
ALTER TABLE "attempts" RENAME TO "attempts_legacy";
ALTER TABLE "attempts_legacy" DROP CONSTRAINT "attempts_pkey";
ALTER INDEX "attempts_delivery_id_attempt_idx" RENAME TO "attempts_legacy_delivery_id_attempt_idx";

CREATE TABLE "events" (
    "id" TEXT NOT NULL,
    "team_id" INTEGER NOT NULL,
    "project_id" INTEGER,
    "type" TEXT NOT NULL,
    "timestamp" TIMESTAMPTZ(3) NOT NULL,
    "data" JSONB NOT NULL,
    "sender" JSONB,
    "idempotency_key" TEXT,
    "idempotency_expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
) PARTITION BY RANGE ("id");
CREATE INDEX "events_team_id_created_at_idx" ON "events"("team_id", "created_at");
CREATE INDEX "events_team_id_idempotency_key_idx" ON "events"("team_id", "idempotency_key");

CREATE TABLE "deliveries" (
    "id" TEXT NOT NULL,
    "team_id" INTEGER NOT NULL,
    "webhook_id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "status" "DeliveryStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_status_code" INTEGER,
    "next_attempt_at" TIMESTAMPTZ(3),
    "is_test" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "deliveries_pkey" PRIMARY KEY ("id")
) PARTITION BY RANGE ("id");
CREATE INDEX "deliveries_webhook_id_created_at_id_idx" ON "deliveries"("webhook_id", "created_at" DESC, "id" DESC);
CREATE INDEX "deliveries_status_next_attempt_at_idx" ON "deliveries"("status", "next_attempt_at");
CREATE INDEX "deliveries_event_id_idx" ON "deliveries"("event_id");

CREATE TABLE "attempts" (
    "id" TEXT NOT NULL,
    "delivery_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "status_code" INTEGER,
    "response_body" TEXT,
    "error" TEXT,

    CONSTRAINT "attempts_pkey" PRIMARY KEY ("id", "delivery_id")
) PARTITION BY RANGE ("delivery_id");
CREATE INDEX "attempts_delivery_id_attempt_idx" ON "attempts"("delivery_id", "attempt");

CREATE TABLE "events_default" PARTITION OF "events" DEFAULT;
CREATE TABLE "deliveries_default" PARTITION OF "deliveries" DEFAULT;
CREATE TABLE "attempts_default" PARTITION OF "attempts" DEFAULT;

-- v1 rows stay where they are: the old table becomes the partition for every id before
-- tomorrow (UTC), or is dropped when the database had none. Day partitions for the next
-- week follow, so a fresh install needs no worker to have run before its first events.
DO E'
DECLARE
  tomorrow TIMESTAMPTZ := date_trunc(''day'', now() AT TIME ZONE ''UTC'') AT TIME ZONE ''UTC'' + interval ''1 day''\073
  newest TIMESTAMPTZ\073
  first_day TIMESTAMPTZ\073
  day TIMESTAMPTZ\073
  t TEXT\073
BEGIN
  IF EXISTS (SELECT 1 FROM "events_legacy") OR EXISTS (SELECT 1 FROM "deliveries_legacy") OR EXISTS (SELECT 1 FROM "attempts_legacy") THEN
    -- A row made after tomorrow (a clock far ahead) must still fit the legacy range.
    SELECT greatest((SELECT max("created_at") FROM "events_legacy"), (SELECT max("created_at") FROM "deliveries_legacy")) INTO newest\073
    first_day := greatest(tomorrow, date_trunc(''day'', newest AT TIME ZONE ''UTC'') AT TIME ZONE ''UTC'' + interval ''1 day'')\073
    EXECUTE format(''ALTER TABLE "events" ATTACH PARTITION "events_legacy" FOR VALUES FROM (MINVALUE) TO (%L)'', hooklane_id_bound(''evt'', first_day))\073
    EXECUTE format(''ALTER TABLE "deliveries" ATTACH PARTITION "deliveries_legacy" FOR VALUES FROM (MINVALUE) TO (%L)'', hooklane_id_bound(''dlv'', first_day))\073
    EXECUTE format(''ALTER TABLE "attempts" ATTACH PARTITION "attempts_legacy" FOR VALUES FROM (MINVALUE) TO (%L)'', hooklane_id_bound(''dlv'', first_day))\073
  ELSE
    DROP TABLE "events_legacy", "deliveries_legacy", "attempts_legacy"\073
    first_day := tomorrow - interval ''2 days''\073
  END IF\073
  day := first_day\073
  WHILE day < tomorrow + interval ''7 days'' LOOP
    FOREACH t IN ARRAY ARRAY[''events'', ''deliveries'', ''attempts''] LOOP
      EXECUTE format(''CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)'',
        t || ''_p'' || to_char(day AT TIME ZONE ''UTC'', ''YYYYMMDD''), t,
        hooklane_id_bound(CASE t WHEN ''events'' THEN ''evt'' ELSE ''dlv'' END, day),
        hooklane_id_bound(CASE t WHEN ''events'' THEN ''evt'' ELSE ''dlv'' END, day + interval ''1 day''))\073
    END LOOP\073
    day := day + interval ''1 day''\073
  END LOOP\073
END ';

CREATE FUNCTION "hooklane_claim_idempotency_key"() RETURNS TRIGGER
LANGUAGE plpgsql AS E'
BEGIN
  IF NEW.idempotency_key IS NULL THEN
    RETURN NEW\073
  END IF\073
  INSERT INTO idempotency_keys AS k (team_id, key, event_id, expires_at)
  VALUES (NEW.team_id, NEW.idempotency_key, NEW.id,
          coalesce(NEW.idempotency_expires_at, NEW.created_at + interval ''24 hours''))
  ON CONFLICT (team_id, key) DO UPDATE
    SET event_id = EXCLUDED.event_id, expires_at = EXCLUDED.expires_at
    WHERE k.expires_at <= NEW.created_at\073
  IF FOUND THEN
    RETURN NEW\073
  END IF\073
  -- Held by a live event: skip the row, as ON CONFLICT DO NOTHING did.
  RETURN NULL\073
END ';

CREATE TRIGGER "events_claim_idempotency_key" BEFORE INSERT ON "events"
FOR EACH ROW EXECUTE FUNCTION "hooklane_claim_idempotency_key"();

-- The event row stays the record of its key (ingest reads and releases keys there), the
-- idempotency_keys row follows it: a released key (set to NULL) frees the claim, a changed
-- expiry moves the claim's.
CREATE FUNCTION "hooklane_sync_idempotency_key"() RETURNS TRIGGER
LANGUAGE plpgsql AS E'
BEGIN
  IF OLD.idempotency_key IS NULL THEN
    RETURN NULL\073
  END IF\073
  IF NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key THEN
    DELETE FROM idempotency_keys WHERE team_id = OLD.team_id AND key = OLD.idempotency_key AND event_id = OLD.id\073
  ELSIF NEW.idempotency_expires_at IS DISTINCT FROM OLD.idempotency_expires_at AND NEW.idempotency_expires_at IS NOT NULL THEN
    UPDATE idempotency_keys SET expires_at = NEW.idempotency_expires_at
     WHERE team_id = OLD.team_id AND key = OLD.idempotency_key AND event_id = OLD.id\073
  END IF\073
  RETURN NULL\073
END ';

CREATE TRIGGER "events_sync_idempotency_key" AFTER UPDATE OF "idempotency_key", "idempotency_expires_at" ON "events"
FOR EACH ROW EXECUTE FUNCTION "hooklane_sync_idempotency_key"();

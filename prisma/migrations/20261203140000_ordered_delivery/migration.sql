-- Ordered delivery (issue 14): the webhook's "ordering", the event's "ordering_key", and the
-- two small tables that hold fifo lines (see prisma/schema.prisma and docs/delivery-path.md).
CREATE TYPE "Ordering" AS ENUM ('none', 'fifo');

ALTER TABLE "webhooks" ADD COLUMN "ordering" "Ordering" NOT NULL DEFAULT 'none';

ALTER TABLE "events" ADD COLUMN "ordering_key" TEXT;

CREATE TABLE "delivery_lines" (
    "webhook_id" TEXT NOT NULL,
    "line" TEXT NOT NULL,
    "last_sequence" INTEGER NOT NULL,
    "pending" INTEGER NOT NULL,

    CONSTRAINT "delivery_lines_pkey" PRIMARY KEY ("webhook_id","line")
);

CREATE TABLE "line_entries" (
    "delivery_id" TEXT NOT NULL,
    "webhook_id" TEXT NOT NULL,
    "line" TEXT NOT NULL,
    "sequence" INTEGER NOT NULL,

    CONSTRAINT "line_entries_pkey" PRIMARY KEY ("delivery_id")
);

CREATE UNIQUE INDEX "line_entries_webhook_id_line_sequence_key" ON "line_entries"("webhook_id", "line", "sequence");

-- A pending delivery without next_attempt_at now means "waiting for its turn in a fifo line",
-- which the sweeper leaves alone. Rows of older versions that lack one are due since creation.
UPDATE "deliveries" SET "next_attempt_at" = "created_at" WHERE "status" = 'pending' AND "next_attempt_at" IS NULL;

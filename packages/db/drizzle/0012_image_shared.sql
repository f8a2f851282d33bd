ALTER TABLE "images" ADD COLUMN "shared_at" timestamp with time zone;--> statement-breakpoint
-- Whether an earlier image's card was ever asked for was not recorded: count every image published
-- before this column as shared, so the retention rule never removes one of them.
UPDATE "images" SET "shared_at" = "created_at";

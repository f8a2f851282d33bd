DROP INDEX "images_model_seed_idx";--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "class_index" smallint;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "classes" jsonb;--> statement-breakpoint
ALTER TABLE "real_sets" ADD COLUMN "classes" jsonb;--> statement-breakpoint
ALTER TABLE "run_metrics" ADD COLUMN "class_fidelity" real;--> statement-breakpoint
CREATE UNIQUE INDEX "images_model_seed_class_idx" ON "images" USING btree ("model_id","seed",coalesce("class_index", -1));--> statement-breakpoint
-- Real sets registered before labels had names: the CIFAR-10 test sets' labels are its classes.
UPDATE "real_sets" SET "classes" = '["airplane","automobile","bird","cat","deer","dog","frog","horse","ship","truck"]'::jsonb WHERE "id" LIKE 'cifar10-test-%' AND "classes" IS NULL;

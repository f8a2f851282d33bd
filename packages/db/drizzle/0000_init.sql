CREATE TABLE "images" (
	"id" text PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"seed" bigint NOT NULL,
	"png_url" text NOT NULL,
	"png_key" text NOT NULL,
	"score" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "images_seed_u32" CHECK ("images"."seed" >= 0 and "images"."seed" <= 4294967295)
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" text PRIMARY KEY NOT NULL,
	"run_id" text,
	"name" text NOT NULL,
	"epoch" integer NOT NULL,
	"quantization" text NOT NULL,
	"model_json_url" text NOT NULL,
	"model_key" text NOT NULL,
	"size_bytes" integer NOT NULL,
	"latent_dim" integer NOT NULL,
	"metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"note" text,
	"is_default" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "run_metrics" (
	"run_id" text NOT NULL,
	"step" integer NOT NULL,
	"epoch" integer NOT NULL,
	"d_loss" real,
	"g_loss" real,
	"fid" real,
	"is_score" real,
	CONSTRAINT "run_metrics_run_id_step_pk" PRIMARY KEY("run_id","step")
);
--> statement-breakpoint
CREATE TABLE "run_samples" (
	"run_id" text NOT NULL,
	"epoch" integer NOT NULL,
	"url" text NOT NULL,
	CONSTRAINT "run_samples_run_id_epoch_pk" PRIMARY KEY("run_id","epoch")
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"config" jsonb NOT NULL,
	"status" text NOT NULL,
	"backend" text NOT NULL,
	"images_per_sec" real,
	"epochs" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "votes" (
	"image_id" text NOT NULL,
	"voter_id" text NOT NULL,
	"value" smallint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "votes_image_id_voter_id_pk" PRIMARY KEY("image_id","voter_id"),
	CONSTRAINT "votes_value_pm1" CHECK ("votes"."value" in (-1, 1))
);
--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_metrics" ADD CONSTRAINT "run_metrics_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_samples" ADD CONSTRAINT "run_samples_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "votes" ADD CONSTRAINT "votes_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "images_new_idx" ON "images" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "images_top_idx" ON "images" USING btree ("score" DESC NULLS LAST,"created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "images_model_seed_idx" ON "images" USING btree ("model_id","seed");
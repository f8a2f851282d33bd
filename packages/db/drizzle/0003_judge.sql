CREATE TABLE "real_images" (
	"id" text PRIMARY KEY NOT NULL,
	"set_id" text NOT NULL,
	"idx" integer NOT NULL,
	"label" smallint,
	"png" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "real_sets" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"source" text NOT NULL,
	"count" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trials" (
	"id" text PRIMARY KEY NOT NULL,
	"visitor_id" text NOT NULL,
	"kind" text NOT NULL,
	"model_id" text,
	"real_image_id" text,
	"seed" bigint,
	"png" "bytea",
	"answer" text,
	"correct" boolean,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"answered_at" timestamp with time zone,
	CONSTRAINT "trials_truth" CHECK (("trials"."kind" = 'real') = ("trials"."real_image_id" is not null) and ("trials"."kind" = 'generated') = ("trials"."model_id" is not null))
);
--> statement-breakpoint
ALTER TABLE "real_images" ADD CONSTRAINT "real_images_set_id_real_sets_id_fk" FOREIGN KEY ("set_id") REFERENCES "public"."real_sets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trials" ADD CONSTRAINT "trials_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trials" ADD CONSTRAINT "trials_real_image_id_real_images_id_fk" FOREIGN KEY ("real_image_id") REFERENCES "public"."real_images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "real_images_set_idx" ON "real_images" USING btree ("set_id","idx");--> statement-breakpoint
CREATE INDEX "trials_model_idx" ON "trials" USING btree ("model_id","answered_at");--> statement-breakpoint
CREATE INDEX "trials_kind_answered_idx" ON "trials" USING btree ("kind","answered_at");
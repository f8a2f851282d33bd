ALTER TABLE "run_metrics" ADD COLUMN "kid" real;--> statement-breakpoint
ALTER TABLE "run_metrics" ADD COLUMN "kid_std" real;--> statement-breakpoint
ALTER TABLE "run_metrics" ADD COLUMN "precision" real;--> statement-breakpoint
ALTER TABLE "run_metrics" ADD COLUMN "recall" real;--> statement-breakpoint
ALTER TABLE "run_metrics" ADD COLUMN "copies" real;
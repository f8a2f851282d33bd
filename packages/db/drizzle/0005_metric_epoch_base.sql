-- run_metrics.epoch counts from 1, as metrics.jsonl does since 2026-12-01 (the epoch a step
-- belongs to; an FID point's epochs completed). Rows written before counted step points from 0.
UPDATE "run_metrics" SET "epoch" = "epoch" + 1;

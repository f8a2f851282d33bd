CREATE INDEX "rate_limits_at_idx" ON "rate_limits" USING btree ("at");--> statement-breakpoint
-- rate_take (0002) with eviction in bounded work per call: instead of a whole-table DELETE on
-- one call in a thousand, every call drops at most 4 buckets untouched for a day (full, so a
-- missing row means the same) from the front of the index on `at`, skipping rows another call
-- holds. Each call adds at most a few rows, so the stale ones still drain.
CREATE OR REPLACE FUNCTION rate_take(p_keys text[], p_limits integer[], p_windows_ms integer[])
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
  t timestamptz := clock_timestamp();
  i integer;
  per_ms double precision;
  have double precision;
  wait integer := 0;
BEGIN
  FOR i IN SELECT k.ord FROM unnest(p_keys) WITH ORDINALITY AS k(key, ord) ORDER BY k.key LOOP
    per_ms := p_limits[i]::double precision / p_windows_ms[i];
    INSERT INTO rate_limits AS r (key, tokens, at) VALUES (p_keys[i], p_limits[i], t)
      ON CONFLICT (key) DO UPDATE SET
        tokens = least(p_limits[i], r.tokens + greatest(0, extract(epoch FROM t - r.at)) * 1000 * per_ms),
        at = greatest(r.at, t)
      RETURNING tokens INTO have;
    IF have < 1 THEN
      wait := greatest(wait, ceil((1 - have) / per_ms / 1000)::integer, 1);
    END IF;
  END LOOP;
  IF wait = 0 THEN
    UPDATE rate_limits SET tokens = tokens - 1 WHERE key = ANY (p_keys);
  END IF;
  DELETE FROM rate_limits WHERE key IN (
    SELECT s.key FROM rate_limits AS s WHERE s.at < t - interval '1 day'
    ORDER BY s.at LIMIT 4 FOR UPDATE SKIP LOCKED);
  RETURN wait;
END
$$;

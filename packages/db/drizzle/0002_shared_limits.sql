CREATE TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "votes" ADD COLUMN "addr" text;--> statement-breakpoint
CREATE INDEX "votes_image_addr_idx" ON "votes" USING btree ("image_id","addr");--> statement-breakpoint
-- Shared token buckets: every instance on one PostgreSQL spends the same budgets.
-- Takes one token from each named bucket, all or none, and returns 0, or the whole seconds until
-- every bucket has one again. Buckets are locked in key order, so two calls naming the same
-- buckets cannot deadlock. A bucket untouched for a day is full (no window is longer), so such
-- rows are deleted now and then: a missing row starts full.
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
  IF random() < 0.001 THEN
    DELETE FROM rate_limits WHERE at < t - interval '1 day';
  END IF;
  RETURN wait;
END
$$;
--> statement-breakpoint
-- cast_vote (0001) plus a cap per client address: a voter new to this image whose
-- address tag already carries p_addr_cap votes on it is refused with SQLSTATE GS429, so one
-- address moves one image's score by at most p_addr_cap however many identities it holds.
-- Changing or withdrawing an existing vote is always allowed.
DROP FUNCTION IF EXISTS cast_vote(text, text, smallint);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION cast_vote(p_image text, p_voter text, p_value smallint, p_addr text, p_addr_cap integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
  old_value smallint;
  new_score integer;
BEGIN
  PERFORM 1 FROM images WHERE id = p_image FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF p_value = 0 THEN
    DELETE FROM votes WHERE image_id = p_image AND voter_id = p_voter RETURNING value INTO old_value;
  ELSE
    SELECT value INTO old_value FROM votes WHERE image_id = p_image AND voter_id = p_voter;
    IF NOT FOUND AND p_addr IS NOT NULL AND p_addr_cap IS NOT NULL
       AND (SELECT count(*) FROM votes WHERE image_id = p_image AND addr = p_addr) >= p_addr_cap THEN
      RAISE EXCEPTION 'this address has cast % votes on this image', p_addr_cap USING ERRCODE = 'GS429';
    END IF;
    INSERT INTO votes (image_id, voter_id, value, addr) VALUES (p_image, p_voter, p_value, p_addr)
      ON CONFLICT (image_id, voter_id) DO UPDATE SET value = EXCLUDED.value;
  END IF;
  UPDATE images SET score = score + p_value - coalesce(old_value, 0)
    WHERE id = p_image RETURNING score INTO new_score;
  RETURN new_score;
END
$$;

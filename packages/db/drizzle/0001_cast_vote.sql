-- A vote in one round trip (target: >= 1,000 votes/s). The transaction that castVote ran as five
-- statements (lock, read, upsert, recount, update) now runs inside the server, in the implicit
-- transaction of a single SELECT.
--
-- Exactness: every vote on an image first locks that image's row, so votes on one image run one
-- at a time; the old vote read under the lock is the one being replaced, and
-- score + new - old keeps score = sum(votes.value) without recounting the image's votes.
-- Returns NULL for an unknown image.
CREATE OR REPLACE FUNCTION cast_vote(p_image text, p_voter text, p_value smallint)
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
    INSERT INTO votes (image_id, voter_id, value) VALUES (p_image, p_voter, p_value)
      ON CONFLICT (image_id, voter_id) DO UPDATE SET value = EXCLUDED.value;
  END IF;
  UPDATE images SET score = score + p_value - coalesce(old_value, 0)
    WHERE id = p_image RETURNING score INTO new_score;
  RETURN new_score;
END
$$;

-- Tallies by period, so answers age: a score and every cap read only the last p_window periods.
-- Rows from before periods fall in the period this migration runs in, and age from there.
ALTER TABLE "judge_tallies" ADD COLUMN "period" integer;--> statement-breakpoint
UPDATE "judge_tallies" SET "period" = floor(extract(epoch from now()) / 604800)::integer;--> statement-breakpoint
ALTER TABLE "judge_tallies" ALTER COLUMN "period" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "judge_tallies" DROP CONSTRAINT "judge_tallies_contributor_subject_pk";--> statement-breakpoint
ALTER TABLE "judge_tallies" ADD CONSTRAINT "judge_tallies_contributor_subject_period_pk" PRIMARY KEY("contributor","subject","period");--> statement-breakpoint
DROP FUNCTION judge_answer(text, text, text, integer, integer);--> statement-breakpoint
-- An answer in one round trip: records it on the owner's open, unexpired trial (two racing
-- answers count once: the UPDATE matches one), drops the served bytes, and adds it to its
-- contributor's tally for the model (or '@real') in the current period (p_period_s seconds long)
-- while, over the last p_window periods, that contributor holds fewer than p_cap judgements of the
-- subject and its network fewer than p_network_cap. The network is locked per subject for that
-- check (a contributor lies in one network), so concurrent answers cannot overshoot either cap.
-- outcome: ok | not_found | not_yours | answered | expired.
CREATE FUNCTION judge_answer(p_trial text, p_visitor text, p_answer text, p_cap integer, p_network_cap integer, p_period_s integer, p_window integer)
RETURNS TABLE (outcome text, kind text, model_id text, correct boolean, counted boolean)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
  t trials%ROWTYPE;
  subj text;
  cur integer;
  did boolean := false;
BEGIN
  UPDATE trials AS tr SET answer = p_answer, correct = (tr.kind = p_answer), answered_at = now(), png = NULL
    WHERE tr.id = p_trial AND tr.visitor_id = p_visitor AND tr.answer IS NULL AND tr.expires_at > now()
    RETURNING * INTO t;
  IF NOT FOUND THEN
    SELECT * INTO t FROM trials AS tr WHERE tr.id = p_trial;
    outcome := CASE
      WHEN NOT FOUND THEN 'not_found'
      WHEN t.visitor_id <> p_visitor THEN 'not_yours'
      WHEN t.answer IS NOT NULL THEN 'answered'
      ELSE 'expired' END;
    RETURN NEXT;
    RETURN;
  END IF;
  IF t.contributor IS NOT NULL THEN
    subj := coalesce(t.model_id, '@real');
    cur := floor(extract(epoch from now()) / p_period_s)::integer;
    PERFORM pg_advisory_xact_lock(hashtext(t.network || '|' || subj));
    IF (SELECT coalesce(sum(j.judgements), 0) FROM judge_tallies AS j
        WHERE j.network = t.network AND j.subject = subj AND j.period > cur - p_window) < p_network_cap
      AND (SELECT coalesce(sum(j.judgements), 0) FROM judge_tallies AS j
        WHERE j.contributor = t.contributor AND j.subject = subj AND j.period > cur - p_window) < p_cap THEN
      INSERT INTO judge_tallies AS j (contributor, subject, network, period, judgements, wrong)
        VALUES (t.contributor, subj, t.network, cur, 1, CASE WHEN t.correct THEN 0 ELSE 1 END)
        ON CONFLICT (contributor, subject, period) DO UPDATE
          SET judgements = j.judgements + 1, wrong = j.wrong + EXCLUDED.wrong;
      did := true;
    END IF;
    UPDATE trials AS tr SET counted = did WHERE tr.id = p_trial;
  END IF;
  outcome := 'ok';
  kind := t.kind;
  model_id := t.model_id;
  correct := t.correct;
  counted := did;
  RETURN NEXT;
END
$$;

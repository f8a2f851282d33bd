CREATE TABLE "judge_tallies" (
	"contributor" text NOT NULL,
	"subject" text NOT NULL,
	"network" text NOT NULL,
	"judgements" integer DEFAULT 0 NOT NULL,
	"wrong" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "judge_tallies_contributor_subject_pk" PRIMARY KEY("contributor","subject")
);
--> statement-breakpoint
ALTER TABLE "trials" ADD COLUMN "contributor" text;--> statement-breakpoint
ALTER TABLE "trials" ADD COLUMN "network" text;--> statement-breakpoint
ALTER TABLE "trials" ADD COLUMN "counted" boolean;--> statement-breakpoint
CREATE INDEX "judge_tallies_network_idx" ON "judge_tallies" USING btree ("network","subject");--> statement-breakpoint
CREATE INDEX "judge_tallies_subject_idx" ON "judge_tallies" USING btree ("subject");--> statement-breakpoint
CREATE INDEX "trials_open_idx" ON "trials" USING btree ("visitor_id","expires_at") WHERE "trials"."answer" is null;--> statement-breakpoint
CREATE INDEX "trials_expires_idx" ON "trials" USING btree ("expires_at");--> statement-breakpoint
-- Trials answered before contributors were recorded: their addresses were never stored, so each
-- visitor identity stands for itself (its own network), capped like any contributor.
INSERT INTO "judge_tallies" ("contributor", "subject", "network", "judgements", "wrong")
SELECT 'legacy:' || "visitor_id", coalesce("model_id", '@real'), 'legacy:' || "visitor_id",
       least(count(*), 20)::int,
       least(count(*) FILTER (WHERE NOT "correct"), least(count(*), 20))::int
FROM "trials" WHERE "answer" IS NOT NULL
GROUP BY "visitor_id", coalesce("model_id", '@real');
--> statement-breakpoint
-- An answer in one round trip: records it on the owner's open, unexpired trial (two racing
-- answers count once: the UPDATE matches one), drops the served bytes, and adds it to its
-- contributor's tally for the model (or '@real') while that tally holds fewer than p_cap
-- judgements and the contributor's network's tallies for that subject fewer than p_network_cap.
-- The network is locked per subject for that check, so concurrent answers cannot overshoot it.
-- outcome: ok | not_found | not_yours | answered | expired.
CREATE OR REPLACE FUNCTION judge_answer(p_trial text, p_visitor text, p_answer text, p_cap integer, p_network_cap integer)
RETURNS TABLE (outcome text, kind text, model_id text, correct boolean, counted boolean)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
  t trials%ROWTYPE;
  subj text;
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
    PERFORM pg_advisory_xact_lock(hashtext(t.network || '|' || subj));
    IF (SELECT coalesce(sum(j.judgements), 0) FROM judge_tallies AS j
        WHERE j.network = t.network AND j.subject = subj) < p_network_cap THEN
      INSERT INTO judge_tallies AS j (contributor, subject, network, judgements, wrong)
        VALUES (t.contributor, subj, t.network, 1, CASE WHEN t.correct THEN 0 ELSE 1 END)
        ON CONFLICT (contributor, subject) DO UPDATE
          SET judgements = j.judgements + 1, wrong = j.wrong + EXCLUDED.wrong
          WHERE j.judgements < p_cap
        RETURNING true INTO did;
    END IF;
    UPDATE trials AS tr SET counted = coalesce(did, false) WHERE tr.id = p_trial;
  END IF;
  outcome := 'ok';
  kind := t.kind;
  model_id := t.model_id;
  correct := t.correct;
  counted := coalesce(did, false);
  RETURN NEXT;
END
$$;

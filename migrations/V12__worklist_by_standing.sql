-- The review worklist puts plans whose decision a review said is no longer valid first (then
-- the rest by due date, overdue before due), and each row says the CPR decision's standing and
-- whether a senior responsible clinician's countersignature is awaited.
--
-- `priority`: 0 for a decision said to be no longer valid, 1 otherwise. `cpr_standing` is the
-- standing that does not depend on the day (`said-no-longer-valid`, `changed-after-signing`,
-- `awaiting-countersignature`, `current`); a read adds `review-overdue` from the due date.
ALTER TABLE review_worklist
    ADD COLUMN priority smallint NOT NULL DEFAULT 1,
    ADD COLUMN cpr_standing text NOT NULL DEFAULT 'current',
    ADD COLUMN awaiting_countersignature boolean NOT NULL DEFAULT false;
ALTER TABLE review_worklist_orgs
    ADD COLUMN priority smallint NOT NULL DEFAULT 1;

-- Existing rows, from the stored summaries (their standing was judged on the plan's last
-- change; review-overdue is a read's judgement, so it counts as current here).
UPDATE review_worklist w SET
    cpr_standing = CASE
        WHEN s.summary->'cpr'->>'standing' IN
             ('said-no-longer-valid', 'changed-after-signing', 'awaiting-countersignature')
        THEN s.summary->'cpr'->>'standing' ELSE 'current' END,
    priority = CASE WHEN s.summary->'cpr'->>'standing' = 'said-no-longer-valid' THEN 0 ELSE 1 END,
    awaiting_countersignature = coalesce(
        json_typeof(s.summary->'cpr'->'signatures') = 'array'
        AND json_array_length(s.summary->'cpr'->'signatures') > 0
        AND NOT EXISTS (
            SELECT 1 FROM json_array_elements(s.summary->'cpr'->'signatures') AS sig
            WHERE (sig->>'seniorResponsible')::boolean),
        false)
FROM emergency_summary s
WHERE s.plan_id = w.plan_id;
UPDATE review_worklist_orgs o SET priority = w.priority
FROM review_worklist w WHERE w.plan_id = o.plan_id;

DROP INDEX review_worklist_due;
CREATE INDEX review_worklist_due ON review_worklist (status, priority, due_date, plan_id);
DROP INDEX review_worklist_orgs_due;
CREATE INDEX review_worklist_orgs_due
    ON review_worklist_orgs (organisation, status, priority, due_date, plan_id);

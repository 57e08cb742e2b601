-- Plans due or overdue for review, for the practices and teams that keep them current: one row
-- per plan with a review date, projected inline like the other read models and rebuilt from the
-- log. `organisations` holds every ODS code responsible for the plan (the registered GP
-- practice, the team that last reviewed it, the team that recorded the Emergency Treatment
-- Plan), so that each of them finds it.
CREATE TABLE review_worklist (
    plan_id            uuid PRIMARY KEY,
    nhs_number         text NOT NULL,
    family_name        text NOT NULL,
    given_name         text NOT NULL,
    status             text NOT NULL,
    due_date           date NOT NULL,
    last_reviewed_at   timestamptz,
    last_reviewed_by   text,
    responsible_org    text,
    organisations      text[] NOT NULL DEFAULT '{}'
);

-- An organisation's worklist: the GIN index finds its plans, the due-date index orders them.
CREATE INDEX review_worklist_organisations ON review_worklist USING gin (organisations);
CREATE INDEX review_worklist_due ON review_worklist (status, due_date, plan_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON review_worklist TO ucp_app;

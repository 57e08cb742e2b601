-- An organisation's worklist is read by organisation and due date: one row per (organisation,
-- plan) keyed that way, so that the page is an index range scan in order whatever the table's
-- statistics and however many plans other organisations hold (the array + GIN of V6 made the
-- planner filter every active plan).
CREATE TABLE review_worklist_orgs (
    organisation text NOT NULL,
    plan_id      uuid NOT NULL REFERENCES review_worklist (plan_id) ON DELETE CASCADE,
    status       text NOT NULL,
    due_date     date NOT NULL,
    PRIMARY KEY (organisation, plan_id)
);
CREATE INDEX review_worklist_orgs_due ON review_worklist_orgs (organisation, status, due_date, plan_id);
CREATE INDEX review_worklist_orgs_plan ON review_worklist_orgs (plan_id);

INSERT INTO review_worklist_orgs (organisation, plan_id, status, due_date)
SELECT DISTINCT o.org, w.plan_id, w.status, w.due_date
FROM review_worklist w, unnest(w.organisations) AS o(org);

GRANT SELECT, INSERT, UPDATE, DELETE ON review_worklist_orgs TO ucp_app;

-- Read models of care plans, written by the inline projection in each append's transaction
-- (ucp-store/src/projections/care_plans.rs) and rebuildable from the log.

-- The current plan document, as GET /v1/care-plans/{id} serves it.
CREATE TABLE care_plan_view (
    plan_id    uuid PRIMARY KEY,
    nhs_number text NOT NULL,
    status     text NOT NULL,
    version    bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    document   jsonb NOT NULL
);
-- One open plan per person; the backstop for two clinicians creating at once.
CREATE UNIQUE INDEX care_plan_view_one_active_per_nhs_number
    ON care_plan_view (nhs_number) WHERE status = 'active';
CREATE INDEX care_plan_view_by_nhs_number ON care_plan_view (nhs_number, updated_at DESC);

-- What a crew needs first, one JSON document per plan, served as stored.
CREATE TABLE emergency_summary (
    plan_id    uuid PRIMARY KEY,
    nhs_number text NOT NULL,
    status     text NOT NULL,
    version    bigint NOT NULL,
    summary    jsonb NOT NULL
);
CREATE INDEX emergency_summary_by_nhs_number ON emergency_summary (nhs_number);

-- Finding a person whose NHS number is not known: names folded (lower case, no accents).
CREATE TABLE patient_index (
    plan_id       uuid PRIMARY KEY,
    nhs_number    text NOT NULL,
    family_name   text NOT NULL,
    given_name    text NOT NULL,
    family_folded text NOT NULL,
    given_folded  text NOT NULL,
    birth_date    date NOT NULL,
    postcode      text NOT NULL,
    status        text NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX patient_index_family ON patient_index (family_folded);
CREATE INDEX patient_index_birth_date ON patient_index (birth_date);
CREATE INDEX patient_index_postcode ON patient_index (postcode);

GRANT SELECT, INSERT, UPDATE, DELETE ON care_plan_view, emergency_summary, patient_index TO ucp_app;

-- National Record Locator pointer changes that could not be sent after the last attempt. No
-- payload is kept: a redelivery brings the pointer in line with the plan as it is then (so a
-- late redelivery can never bring back the pointer of a plan withdrawn since). The publisher's
-- position in the feed is the consumer checkpoint 'nrl-publisher'.
CREATE TABLE nrl_dead_letters (
    dead_letter_id uuid PRIMARY KEY,
    change_id      uuid NOT NULL,
    plan_id        uuid NOT NULL,
    nhs_number     text NOT NULL,
    pointer_id     text NOT NULL,
    method         text NOT NULL CHECK (method IN ('POST', 'PUT', 'DELETE')),
    attempts       integer NOT NULL,
    last_error     text NOT NULL,
    parked_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    redelivered_at timestamptz,
    UNIQUE (change_id, pointer_id)
);
CREATE INDEX nrl_dead_letters_open ON nrl_dead_letters (parked_at) WHERE redelivered_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON nrl_dead_letters TO ucp_app;

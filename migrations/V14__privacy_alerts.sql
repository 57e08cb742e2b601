-- Alerts for the privacy officer, computed from the access log as it is written: a scanner
-- follows the log in commit order, behind the same gapless fence as the feed (only entries of
-- transactions older than every open one), so that no entry is ever skipped.
CREATE INDEX access_log_commit_order ON access_log (transaction_id, entry_id);

-- Whether a read was of a record marked sensitive is answered from the plan's events at the
-- version read: the marks are few, and found without reading each plan's whole stream.
CREATE INDEX events_sensitivity_marks ON events (stream_id, stream_version)
    WHERE event_type IN ('SensitivityMarked', 'SensitivityCleared');

-- One alert: what was detected (kind, who, about whom, why, the access-log entries that are its
-- evidence), and what the privacy officer decided. Detection is replayable (`ucp alerts
-- rebuild`): an alert's id is derived from what raised it, so a recomputation finds the same
-- alert and keeps its outcome.
CREATE TABLE privacy_alerts (
    alert_id        uuid PRIMARY KEY,
    kind            text NOT NULL,
    raised_at       timestamptz NOT NULL,
    last_at         timestamptz NOT NULL,
    nhs_number      text,
    actor           text NOT NULL,
    actor_name      text,
    role            text NOT NULL,
    organisation    text,
    -- The plan version the raising entry showed or made (a home's admission: the version the
    -- admission made, which a clinician's confirmation names).
    plan_version    bigint,
    reason          text NOT NULL,
    -- The first entries that are its evidence, in the order they were written (at most 100);
    -- `evidence_count` counts them all.
    evidence        uuid[] NOT NULL,
    evidence_count  bigint NOT NULL,
    -- Everyone whose record the evidence is about (at most 1,000).
    people          text[] NOT NULL DEFAULT '{}',
    -- A later entry that made it moot: a clinician confirmed the residence a home declared.
    cleared_by      uuid,
    cleared_at      timestamptz,
    -- The privacy officer's outcome: reviewed-appropriate or referred; reopened when more
    -- evidence arrives than the outcome was made on.
    outcome         text CHECK (outcome IN ('reviewed-appropriate', 'referred')),
    outcome_note    text,
    outcome_by      text,
    outcome_by_name text,
    outcome_at      timestamptz,
    outcome_evidence_count bigint,
    revision        integer NOT NULL DEFAULT 1
);

CREATE INDEX privacy_alerts_raised ON privacy_alerts (raised_at DESC, alert_id DESC);
CREATE INDEX privacy_alerts_people ON privacy_alerts USING gin (people);
CREATE INDEX privacy_alerts_actor ON privacy_alerts (actor, raised_at DESC);
CREATE INDEX privacy_alerts_organisation ON privacy_alerts (organisation, raised_at DESC);

-- Every outcome recorded, oldest first: the alert row holds the latest.
CREATE TABLE privacy_alert_outcomes (
    alert_id    uuid NOT NULL REFERENCES privacy_alerts (alert_id),
    revision    integer NOT NULL,
    at          timestamptz NOT NULL,
    outcome     text NOT NULL,
    note        text NOT NULL,
    by_actor    text NOT NULL,
    by_name     text,
    PRIMARY KEY (alert_id, revision)
);

CREATE FUNCTION privacy_alert_outcomes_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'outcomes are append-only: % is refused on privacy_alert_outcomes', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER privacy_alert_outcomes_append_only
    BEFORE UPDATE OR DELETE ON privacy_alert_outcomes
    FOR EACH ROW EXECUTE FUNCTION privacy_alert_outcomes_refuse_change();

-- Where the scanner has got to in the access log, and the time of that entry (a new leader
-- re-reads the hour before it, to know the windows that were open).
CREATE TABLE alert_scan (
    scanner         text PRIMARY KEY,
    transaction_id  xid8 NOT NULL,
    entry_id        uuid NOT NULL,
    last_at         timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON privacy_alerts TO ucp_app;
GRANT SELECT, INSERT ON privacy_alert_outcomes TO ucp_app;
GRANT SELECT, INSERT, UPDATE ON alert_scan TO ucp_app;

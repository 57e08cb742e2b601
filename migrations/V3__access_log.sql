-- Every request that touches plan data, read or write, served or refused: who, as what, why,
-- what they asked for and exactly what they were shown (the plan version and the view), so that
-- "what did crew X see about this person at 03:12?" has an exact answer. Append-only, like the
-- event log. Entries of one group commit share a transaction id.
CREATE TABLE access_log (
    entry_id        uuid PRIMARY KEY,
    at              timestamptz NOT NULL,
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    actor           text NOT NULL,
    actor_name      text,
    role            text NOT NULL,
    organisation    text,
    purpose         text,
    action          text NOT NULL,
    method          text NOT NULL,
    path            text NOT NULL,
    plan_id         uuid,
    nhs_number      text,
    plan_version    bigint,
    view            text,
    section         text,
    search_criteria jsonb,
    search_results  jsonb,
    returned_nhs_numbers text[] NOT NULL DEFAULT '{}',
    request_id      text,
    status          smallint NOT NULL
);

CREATE INDEX access_log_at ON access_log (at DESC, entry_id);
CREATE INDEX access_log_nhs_number ON access_log (nhs_number, at DESC);
CREATE INDEX access_log_actor ON access_log (actor, at DESC);
CREATE INDEX access_log_plan ON access_log (plan_id, at DESC);
CREATE INDEX access_log_returned ON access_log USING gin (returned_nhs_numbers);

CREATE FUNCTION access_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % is refused on access_log', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER access_log_no_update_or_delete
    BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();

CREATE TRIGGER access_log_no_truncate
    BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

GRANT SELECT, INSERT ON access_log TO ucp_app;

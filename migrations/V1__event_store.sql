-- The event store: streams, the append-only event log, idempotency records and consumer
-- checkpoints (shared/DESIGN.md, "The event store").

-- The role the server logs in as. It may read and append to the log, never rewrite it. No
-- password is set here: under password authentication, an administrator sets one and gives the
-- server UCP_APP_DATABASE_URL. Roles are cluster-wide, so several databases (tests) may race to
-- create it: tolerate that.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ucp_app') THEN
        CREATE ROLE ucp_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO ucp_app;

CREATE TABLE streams (
    stream_id   uuid PRIMARY KEY,
    stream_type text NOT NULL,
    version     bigint NOT NULL CHECK (version >= 0),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY,
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid NOT NULL UNIQUE,
    stream_id       uuid NOT NULL REFERENCES streams (stream_id),
    stream_version  bigint NOT NULL CHECK (stream_version >= 1),
    event_type      text NOT NULL,
    schema_version  smallint NOT NULL CHECK (schema_version >= 1),
    data            jsonb NOT NULL,
    metadata        jsonb NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT events_stream_version_key PRIMARY KEY (stream_id, stream_version)
);

CREATE UNIQUE INDEX events_feed_order ON events (transaction_id, global_position);
CREATE INDEX events_stream_recorded_at ON events (stream_id, recorded_at);

-- The log is append-only in the database itself, whoever is connected.
CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % is refused on events', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- A command retried with the same Idempotency-Key returns its first result; the fingerprint of
-- the request tells a true retry from a reuse of the key for something else.
CREATE TABLE idempotency_keys (
    scope         text NOT NULL,
    key           text NOT NULL,
    fingerprint   text NOT NULL,
    stream_id     uuid NOT NULL,
    first_version bigint NOT NULL,
    last_version  bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (scope, key)
);

-- Where each feed consumer has got to; saved in the same transaction as the consumer's work.
CREATE TABLE consumer_checkpoints (
    consumer        text PRIMARY KEY,
    transaction_id  xid8 NOT NULL,
    global_position bigint NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

GRANT SELECT, INSERT ON events TO ucp_app;
GRANT SELECT, INSERT, UPDATE ON streams TO ucp_app;
GRANT SELECT, INSERT ON idempotency_keys TO ucp_app;
GRANT SELECT, INSERT, UPDATE ON consumer_checkpoints TO ucp_app;

-- /readyz compares the applied migrations with the build's, as the server's role.
GRANT SELECT ON refinery_schema_history TO ucp_app;

-- Webhook subscriptions and their dead letters. Each subscription's position in the feed is a
-- consumer checkpoint named 'subscription:<id>'. Nothing is erased: a deleted subscription is
-- marked so.
CREATE TABLE subscriptions (
    subscription_id uuid PRIMARY KEY,
    target_url      text NOT NULL,
    -- Empty: every change type.
    change_types    text[] NOT NULL DEFAULT '{}',
    secret          text NOT NULL,
    -- After the last attempt fails: 'continue' parks the change and goes on; 'wait' parks it
    -- and holds later changes until it is redelivered.
    on_failure      text NOT NULL CHECK (on_failure IN ('continue', 'wait')),
    max_attempts    integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 50),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by      text NOT NULL,
    deleted_at      timestamptz
);

CREATE TABLE dead_letters (
    dead_letter_id  uuid PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES subscriptions (subscription_id),
    change_id       uuid NOT NULL,
    payload         jsonb NOT NULL,
    attempts        integer NOT NULL,
    last_error      text NOT NULL,
    parked_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    redelivered_at  timestamptz,
    UNIQUE (subscription_id, change_id)
);
CREATE INDEX dead_letters_open ON dead_letters (subscription_id) WHERE redelivered_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON subscriptions, dead_letters TO ucp_app;

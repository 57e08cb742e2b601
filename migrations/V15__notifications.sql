-- Telling the person (through NHS Notify) and their GP practice that the plan changed. The
-- notifier follows the feed (its checkpoint is `consumer_checkpoints.notifier`) and puts what is
-- to be told in this outbox in the same transaction as its checkpoint, so that no change is
-- lost or told twice; a sender sends what is due. The person's changes within a window are
-- coalesced into one row (one message); the practice gets a row per change.
CREATE TABLE notification_outbox (
    outbox_id     uuid PRIMARY KEY,
    recipient     text NOT NULL CHECK (recipient IN ('person', 'practice')),
    nhs_number    text NOT NULL,
    practice_ods  text,
    plan_id       uuid,
    -- The changes told of, oldest first: kind, plan, version, when, who.
    changes       jsonb NOT NULL,
    first_at      timestamptz NOT NULL,
    due_at        timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text
);
CREATE UNIQUE INDEX notification_outbox_one_per_person ON notification_outbox (nhs_number)
    WHERE recipient = 'person';
CREATE INDEX notification_outbox_due ON notification_outbox (due_at);

-- What could not be sent after every attempt: an admin lists and redelivers them.
CREATE TABLE notification_dead_letters (
    dead_letter_id uuid PRIMARY KEY,
    recipient      text NOT NULL,
    nhs_number     text NOT NULL,
    practice_ods   text,
    plan_id        uuid,
    changes        jsonb NOT NULL,
    first_at       timestamptz NOT NULL,
    attempts       integer NOT NULL,
    last_error     text NOT NULL,
    parked_at      timestamptz NOT NULL,
    redelivered_at timestamptz
);
CREATE INDEX notification_dead_letters_open ON notification_dead_letters (parked_at)
    WHERE redelivered_at IS NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON notification_outbox TO ucp_app;
GRANT SELECT, INSERT, UPDATE ON notification_dead_letters TO ucp_app;

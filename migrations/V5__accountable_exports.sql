-- Every disclosure accounted for, and the patient index hard to walk.

-- What an entry needs beyond the columns it has: which subscription a delivery went to, which
-- entry an admin replayed, where a replay of the feed started. Free-form, never queried by value.
ALTER TABLE access_log ADD COLUMN detail jsonb;

-- A subscription has a name the person can read in their own access log ("shared with …").
ALTER TABLE subscriptions ADD COLUMN name text;
UPDATE subscriptions SET name = target_url WHERE name IS NULL;
ALTER TABLE subscriptions ALTER COLUMN name SET NOT NULL;

-- A subscription starts from now: the changes of every transaction visible in this snapshot
-- (pg_snapshot as text) were committed before it was made, and are not delivered. NULL when the
-- admin asked for a replay from a position.
ALTER TABLE subscriptions ADD COLUMN start_snapshot text;

-- Name prefixes (`LIKE 'abc%'`) are served by an index whatever the database's collation.
DROP INDEX patient_index_family;
CREATE INDEX patient_index_family_prefix ON patient_index (family_folded text_pattern_ops);
CREATE INDEX patient_index_given_prefix ON patient_index (given_folded text_pattern_ops);

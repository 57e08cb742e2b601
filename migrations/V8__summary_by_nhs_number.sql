-- The emergency summary is the hottest read (a crew at a door): make it one index lookup of one
-- table, keyed by what the request names, whatever the planner's statistics say. The summary
-- carries its plan's last change, so choosing the person's current plan (the active one, else
-- the most recently changed) no longer joins care_plan_view.
ALTER TABLE emergency_summary ADD COLUMN plan_updated_at timestamptz;
UPDATE emergency_summary s SET plan_updated_at = v.updated_at
  FROM care_plan_view v WHERE v.plan_id = s.plan_id;
ALTER TABLE emergency_summary ALTER COLUMN plan_updated_at SET NOT NULL;
DROP INDEX emergency_summary_by_nhs_number;
CREATE INDEX emergency_summary_current
  ON emergency_summary (nhs_number, (status = 'active') DESC, plan_updated_at DESC);

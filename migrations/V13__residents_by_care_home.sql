-- A care home lists the people who live there: the plans whose document records a residence at
-- its code (`residence.careHome.odsCode`, written by the inline projection and by a rebuild
-- alike). Only plans with a residence are in the index.
CREATE INDEX care_plan_view_by_care_home
    ON care_plan_view ((document->'residence'->'careHome'->>'odsCode'))
    WHERE (document->'residence'->'careHome'->>'odsCode') IS NOT NULL;

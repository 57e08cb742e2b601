-- A care home lists the people who live there: the code of the care home a plan records as
-- where the person lives (`residence.careHome.odsCode` of the document), kept in a column of
-- its own by the inline projection and by a rebuild alike, so that neither the index nor a
-- write has to parse the document to find it. Only plans with a residence are in the index.
ALTER TABLE care_plan_view ADD COLUMN care_home text;
CREATE INDEX care_plan_view_by_care_home ON care_plan_view (care_home)
    WHERE care_home IS NOT NULL;

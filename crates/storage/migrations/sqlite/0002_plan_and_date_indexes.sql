-- Schema version 2: indexes for the activity plan (activities of one plan, or within a date window) and for
-- filtered lists over many activities.
CREATE INDEX activities_plan ON activities (plan, seq);
CREATE INDEX activities_end ON activities (end_latest);
CREATE INDEX activities_region ON activities (region, seq);
UPDATE meta SET value = '2' WHERE key = 'schema_version';

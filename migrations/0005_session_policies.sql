-- Session policies per phase: managed policy ARNs (a JSON array) passed as
-- PolicyArns on every AssumeRole for that phase, so a plan's session can
-- be held to read-only permissions whatever the role allows. Part of the
-- vend configuration; empty by default, which keeps existing fingerprints.
ALTER TABLE integrations ADD COLUMN read_session_policy_arns TEXT NOT NULL DEFAULT '[]';
ALTER TABLE integrations ADD COLUMN write_session_policy_arns TEXT NOT NULL DEFAULT '[]';

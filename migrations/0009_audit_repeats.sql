-- One audit row may stand for several like events: failed authentications
-- are counted per source and reason within a window rather than written
-- one by one (an unauthenticated caller must not be able to grow the
-- store at will). `event_count` says how many, `at` is the first one's
-- time and `last_at` the last one's; `source` is the address they came
-- from.
ALTER TABLE audit_events ADD COLUMN source TEXT;
ALTER TABLE audit_events ADD COLUMN event_count BIGINT NOT NULL DEFAULT 1;
ALTER TABLE audit_events ADD COLUMN last_at TEXT;

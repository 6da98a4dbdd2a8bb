-- Custom External IDs (worker mode) are unique per broker: two
-- integrations sharing one could each use the other's role. Existing
-- duplicates, if any, must be resolved before this migration applies; it
-- fails rather than pick one.
CREATE UNIQUE INDEX integrations_custom_external_id ON integrations (external_id);

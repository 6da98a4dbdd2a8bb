-- Trust policies at any scale, and SourceIdentity.
--
-- trust_scope: what the integration's role trusts, 'stack' (exact External
-- IDs, one per attached stack and phase) or 'integration' (one StringLike
-- pattern per phase). set_source_identity: vends pass the run id as
-- SourceIdentity. Both are part of the vend configuration, so existing rows
-- keep their fingerprint only because the defaults are what they did.
ALTER TABLE integrations ADD COLUMN trust_scope TEXT NOT NULL DEFAULT 'stack'
    CHECK (trust_scope IN ('stack', 'integration'));
ALTER TABLE integrations ADD COLUMN set_source_identity BIGINT NOT NULL DEFAULT 0
    CHECK (set_source_identity IN (0, 1));

-- The SourceIdentity a vend passed, when it passed one.
ALTER TABLE audit_events ADD COLUMN source_identity TEXT;

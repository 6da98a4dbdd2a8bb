-- Verification gates every vend (src/broker/verification.rs has the states).
--
-- A (stack, phase) gets credentials only while three fingerprints agree:
-- the integration's current configuration, the configuration whose
-- role-level probes last passed (integrations.verified_config), and the
-- configuration under which that stack's phase was last confirmed
-- (stack_phases.verified_config). A fingerprint changes with any
-- trust-relevant field, so a changed role, duration or tag setting stops
-- every vend until it is verified. Existing rows start unverified: run
-- `deputy verify --all` after upgrading.

ALTER TABLE integrations ADD COLUMN verified_config TEXT;
-- Claimed by one replica while it re-verifies the integration, so the
-- periodic re-verification runs once per interval across replicas.
ALTER TABLE integrations ADD COLUMN reverify_claimed_until TEXT;

ALTER TABLE stack_phases ADD COLUMN verified_config TEXT;

-- A verification in progress for a change (attach, added phase, changed
-- integration). Nothing of the change is written until it is verified;
-- this row is what is left if the broker dies meanwhile. Its owner renews
-- the lease while it works; a row whose lease ran out is audited as
-- interrupted and removed by any replica.
CREATE TABLE pending_changes (
    id           TEXT PRIMARY KEY,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    key_id       TEXT,
    started_at   TEXT NOT NULL,
    lease_until  TEXT NOT NULL
);

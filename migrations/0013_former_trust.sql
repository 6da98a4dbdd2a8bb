-- Trust a role may still grant to stacks that no longer use it: each
-- stack's phase detached from an integration (or narrowed away), kept so
-- that verification can ask the role about its External ID and warn while
-- the role still accepts it. No reference to stacks: a deleted stack is
-- exactly the case. A stack attached again for the phase leaves the table;
-- so does a pair the role is found to refuse.
CREATE TABLE former_trust (
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    stack_id       TEXT NOT NULL,
    phase          TEXT NOT NULL CHECK (phase IN ('read', 'write')),
    retired_at     TEXT NOT NULL,
    PRIMARY KEY (integration_id, stack_id, phase)
);

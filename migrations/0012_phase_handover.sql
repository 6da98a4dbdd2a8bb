-- Make-before-break moves of a stack between integrations. A stack may be
-- attached to a second integration for a phase another one holds: the
-- second waits (waiting = 1) and never vends; when the holder's attachment
-- or phase goes, the waiting one takes the phase in the same transaction,
-- so runs of the stack never lack an integration during a move. The key
-- is now per integration, and the unique constraint keeps the rule the
-- old key was: at most one integration serving a stack's phase (and at
-- most one waiting for it), however requests race.
--
-- SQLite cannot change a primary key, so the table is rebuilt; nothing
-- references it.
CREATE TABLE stack_phases_handover (
    stack_id        TEXT NOT NULL,
    phase           TEXT NOT NULL CHECK (phase IN ('read', 'write')),
    integration_id  TEXT NOT NULL,
    verified_config TEXT,
    waiting         BIGINT NOT NULL DEFAULT 0 CHECK (waiting IN (0, 1)),
    PRIMARY KEY (integration_id, stack_id, phase),
    UNIQUE (stack_id, phase, waiting),
    FOREIGN KEY (integration_id, stack_id) REFERENCES attachments (integration_id, stack_id) ON DELETE CASCADE
);
INSERT INTO stack_phases_handover (stack_id, phase, integration_id, verified_config, waiting)
    SELECT stack_id, phase, integration_id, verified_config, 0 FROM stack_phases;
DROP TABLE stack_phases;
ALTER TABLE stack_phases_handover RENAME TO stack_phases;

-- deputy broker registry. Portable SQL: the same file runs on SQLite and
-- PostgreSQL. Ids are text (slugs, ULIDs), times are RFC 3339 UTC text,
-- label maps are JSON text, booleans are BIGINT 0/1 (sqlx's Any driver maps
-- no boolean type that both databases share).

CREATE TABLE stacks (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    space       TEXT NOT NULL,
    labels      TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE integrations (
    id                             TEXT PRIMARY KEY,
    -- Names are how people and `data "deputy_aws_integration"` find an
    -- integration, so two with one name would be ambiguous.
    name                           TEXT NOT NULL UNIQUE,
    role_arn                       TEXT NOT NULL,
    region                         TEXT NOT NULL,
    duration_seconds               BIGINT NOT NULL,
    generate_credentials_in_worker BIGINT NOT NULL CHECK (generate_credentials_in_worker IN (0, 1)),
    external_id                    TEXT,
    tag_session                    BIGINT NOT NULL CHECK (tag_session IN (0, 1)),
    labels                         TEXT NOT NULL,
    space                          TEXT NOT NULL,
    description                    TEXT NOT NULL,
    last_verified_at               TEXT,
    last_verification              TEXT,
    created_at                     TEXT NOT NULL,
    updated_at                     TEXT NOT NULL
);

CREATE TABLE attachments (
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE RESTRICT,
    stack_id       TEXT NOT NULL REFERENCES stacks (id) ON DELETE RESTRICT,
    read           BIGINT NOT NULL CHECK (read IN (0, 1)),
    write          BIGINT NOT NULL CHECK (write IN (0, 1)),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (integration_id, stack_id),
    CHECK (read = 1 OR write = 1)
);

-- One row per phase an attachment serves. The primary key is the rule "a
-- stack has at most one integration per phase": two racing attachments for
-- the same stack and phase cannot both commit, whatever the handlers do.
CREATE TABLE stack_phases (
    stack_id       TEXT NOT NULL,
    phase          TEXT NOT NULL CHECK (phase IN ('read', 'write')),
    integration_id TEXT NOT NULL,
    PRIMARY KEY (stack_id, phase),
    FOREIGN KEY (integration_id, stack_id) REFERENCES attachments (integration_id, stack_id) ON DELETE CASCADE
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    -- SHA-256 of the secret part, hex. The secret itself is never stored.
    secret_hash  TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'runner')),
    stack_id     TEXT REFERENCES stacks (id) ON DELETE CASCADE,
    phases       TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT,
    CHECK ((role = 'runner') = (stack_id IS NOT NULL))
);

CREATE TABLE audit_events (
    id           TEXT PRIMARY KEY,
    at           TEXT NOT NULL,
    key_id       TEXT,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    stack_id     TEXT,
    phase        TEXT,
    run_id       TEXT,
    integration_id TEXT,
    session_name TEXT,
    expires_at   TEXT,
    detail       TEXT NOT NULL
);

CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX attachments_stack ON attachments (stack_id);

-- Console sign-ins. A session is a random secret in the browser's cookie;
-- only its SHA-256 is kept, as for API keys. A session lives no longer than
-- the key it was opened with, and is checked against that key at every
-- request, so revoking the key ends it.
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL REFERENCES api_keys (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

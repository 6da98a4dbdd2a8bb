-- Creates sent with an Idempotency-Key: a retry with the same key gets
-- the first attempt's object instead of a second one. A row is written in
-- the create's own transaction, so it exists exactly when the object
-- does. Neither the key nor the body is stored: `key_hash` digests the
-- caller's key id with the key, `fingerprint` the route with the body. A
-- key creation's token is kept only encrypted under the idempotency key
-- (`sealed_answer`), which the broker does not have between requests.
-- Rows go after `kept_until` (24 hours).
CREATE TABLE idempotency_keys (
    key_hash      TEXT PRIMARY KEY,
    fingerprint   TEXT NOT NULL,
    target        TEXT NOT NULL,
    sealed_answer TEXT,
    created_at    TEXT NOT NULL,
    kept_until    TEXT NOT NULL
);

CREATE INDEX idempotency_keys_kept_until ON idempotency_keys (kept_until);

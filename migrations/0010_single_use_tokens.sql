-- Runner trusts that accept each ID token once: the `jti` of every token
-- such a trust let in is kept until the token expires, in the store, so a
-- token replayed at another replica is refused too. A token is identified
-- by its issuer and `jti`; the primary key makes the first use win when
-- two replicas see the same token at once.
ALTER TABLE runner_trusts ADD COLUMN single_use_tokens BIGINT NOT NULL DEFAULT 0
    CHECK (single_use_tokens IN (0, 1));

CREATE TABLE used_tokens (
    issuer     TEXT NOT NULL,
    token_id   TEXT NOT NULL,
    -- When the token expires (with the leeway validation allows): the row
    -- may go then.
    kept_until TEXT NOT NULL,
    PRIMARY KEY (issuer, token_id)
);

CREATE INDEX used_tokens_kept_until ON used_tokens (kept_until);

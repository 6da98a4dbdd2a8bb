-- Runner trusts: OIDC ID tokens of CI jobs as runner identities.
--
-- A trust maps tokens of one issuer and audience whose subject and other
-- claims match its patterns to one stack and the phases it names. Claims
-- are a JSON object of claim name to pattern; phases a comma-separated
-- list, as for API keys. Deleting a stack deletes its trusts, as it
-- deletes its runner keys.
CREATE TABLE runner_trusts (
    id          TEXT PRIMARY KEY,
    stack_id    TEXT NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    issuer      TEXT NOT NULL,
    audience    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    claims      TEXT NOT NULL,
    phases      TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE INDEX runner_trusts_issuer ON runner_trusts (issuer);

-- Who a request authenticated as when it was not an API key: the token's
-- issuer, subject and id (`jti`), and the trust that let it in. Never the
-- token itself.
ALTER TABLE audit_events ADD COLUMN token_issuer TEXT;
ALTER TABLE audit_events ADD COLUMN token_subject TEXT;
ALTER TABLE audit_events ADD COLUMN token_id TEXT;
ALTER TABLE audit_events ADD COLUMN runner_trust_id TEXT;

-- Spaces: a tree every stack, integration and key belongs to (see
-- `model::space` for the rules read from it). Until now `space` was a
-- free-text label on stacks and integrations; from here it names a space.
-- Every existing object moves to `root`, so every attachment stays within
-- reach; a former label other than `root` is kept as the object's label
-- `space` (`former-space` where a label `space` exists), nothing is lost.

CREATE TABLE spaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    -- A space's parent never changes; deleting a space with children is
    -- refused (here and, with a reason, by the broker).
    parent_id   TEXT REFERENCES spaces (id) ON DELETE RESTRICT,
    inherit     BIGINT NOT NULL CHECK (inherit IN (0, 1)),
    labels      TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Empty for root until the broker that migrated opens the store (the
    -- two databases share no function that formats the time).
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK ((id = 'root') = (parent_id IS NULL))
);

INSERT INTO spaces (id, name, parent_id, inherit, labels, description, created_at, updated_at)
VALUES ('root', 'root', NULL, 0, '{}', 'The top of the tree: every space is below it.', '', '');

UPDATE stacks SET
    labels = '{'
        || CASE WHEN labels LIKE '%"space":%' THEN '"former-space":"' ELSE '"space":"' END
        || REPLACE(REPLACE(space, '\', '\\'), '"', '\"') || '"'
        || CASE WHEN labels = '{}' THEN '}' ELSE ',' || SUBSTR(labels, 2) END,
    space = 'root'
WHERE space <> 'root';

UPDATE integrations SET
    labels = '{'
        || CASE WHEN labels LIKE '%"space":%' THEN '"former-space":"' ELSE '"space":"' END
        || REPLACE(REPLACE(space, '\', '\\'), '"', '\"') || '"'
        || CASE WHEN labels = '{}' THEN '}' ELSE ',' || SUBSTR(labels, 2) END,
    space = 'root'
WHERE space <> 'root';

CREATE INDEX stacks_space ON stacks (space);
CREATE INDEX integrations_space ON integrations (space);

-- Keys that manage the registry hold a level in a space. `role` keeps its
-- two values (`admin` for these keys, `runner`) because SQLite cannot
-- change a CHECK in place; `access` says which level. Existing admin keys
-- keep everything: admin of root.
ALTER TABLE api_keys ADD COLUMN access TEXT CHECK (access IN ('admin', 'write', 'read'));
ALTER TABLE api_keys ADD COLUMN space_id TEXT;
UPDATE api_keys SET access = 'admin', space_id = 'root' WHERE role = 'admin';

-- Every event names the space it is about (see `store::audit`), so a key
-- reads its own subtree's trail. Events before this version were all
-- about objects that are now in root.
ALTER TABLE audit_events ADD COLUMN space_id TEXT;
UPDATE audit_events SET space_id = 'root';

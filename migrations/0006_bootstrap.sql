-- The first admin key is minted once per store, even when several brokers
-- start together on an empty database: the key goes in with this table's
-- only row, and a second insert fails on its primary key.
CREATE TABLE bootstrap (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    key_id TEXT NOT NULL,
    at     TEXT NOT NULL
);

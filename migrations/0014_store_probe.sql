-- One row a broker rewrites, only after the store refused a write (a full
-- disk, a read-only file or replica), to learn when writing works again:
-- /readyz stays 503 until it does (see src/broker/store/health.rs).
CREATE TABLE store_probe (
    id         BIGINT PRIMARY KEY,
    written_at TEXT NOT NULL
);

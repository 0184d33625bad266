-- Request signatures v2 (issue #13, part 4).

-- An API key (operator keys included) can be made to require signed requests.
ALTER TABLE api_keys ADD COLUMN require_signed_requests BOOLEAN NOT NULL DEFAULT FALSE;

-- A customer's keys may issue API keys only when the operator allowed it.
ALTER TABLE customers ADD COLUMN can_manage_api_keys BOOLEAN NOT NULL DEFAULT FALSE;

-- Request signatures already accepted, kept until their timestamp leaves the
-- freshness window (expires_at, unix microseconds). Inserting a digest that
-- is present (0 rows) means a replay. On PostgreSQL every node shares this
-- table; a SQLite node keeps the same memory in process (see
-- docs/architecture.md) and leaves this table empty.
CREATE TABLE seen_signatures (
    digest BLOB PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX seen_signatures_expiry ON seen_signatures (expires_at);

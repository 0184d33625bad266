-- Daily reconciliation files (issue #18, docs/reports.md): for each banking
-- day, one file for the operator, one per customer and one per destination
-- account, listing every ledger transaction of the day with a control total.
-- The content (JSON lines, the canonical form; CSV is rendered from it) is
-- kept here rather than on disk so every node of a PostgreSQL deployment can
-- serve it and a backup of the database carries it.
CREATE TABLE daily_files (
    id TEXT PRIMARY KEY,
    business_date TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('operator', 'customer', 'account')),
    -- 'operator', the customer id or the account id: what the versions count.
    scope_key TEXT NOT NULL,
    customer_id TEXT REFERENCES customers (id),
    account_id TEXT REFERENCES accounts (id),
    -- 1 for the first file of a scope and day; a regeneration whose content
    -- differs adds the next version and marks the previous one superseded.
    version BIGINT NOT NULL CHECK (version >= 1),
    superseded_by TEXT,
    currency TEXT NOT NULL,
    row_count BIGINT NOT NULL CHECK (row_count >= 0),
    total_net BIGINT NOT NULL,
    ledger_movement BIGINT NOT NULL,
    ties_out BOOLEAN NOT NULL,
    sha256 TEXT NOT NULL,
    content TEXT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('scheduled', 'on_demand')),
    created_at BIGINT NOT NULL,
    CHECK ((scope = 'operator') = (customer_id IS NULL)),
    CHECK ((scope = 'account') = (account_id IS NOT NULL)),
    UNIQUE (business_date, scope_key, version)
);
CREATE INDEX daily_files_customer ON daily_files (customer_id, business_date);

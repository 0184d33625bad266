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

-- The push of a customer's files to its own folder (`[[report_delivery]]`),
-- one row per file to push, made with the file when its customer has a
-- destination: `pending` (due at next_attempt_at) → `uploaded`, or `failed`
-- once the attempts run out or the error is permanent.
CREATE TABLE daily_file_deliveries (
    file_id TEXT PRIMARY KEY REFERENCES daily_files (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'uploaded', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at BIGINT,
    last_error TEXT,
    location TEXT,
    uploaded_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX daily_file_deliveries_due ON daily_file_deliveries (status, next_attempt_at);

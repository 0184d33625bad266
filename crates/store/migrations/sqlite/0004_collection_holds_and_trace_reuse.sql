-- no-transaction
-- Trace numbers are unique within a file, not forever: the 7-digit sequence
-- wraps after 9,999,999 entries. A held collection records why it is held.
--
-- SQLite cannot drop a column's UNIQUE constraint, so the table is rebuilt
-- (SQLite's documented procedure: foreign keys off, one transaction, copy,
-- drop, rename). Running it again after a crash between its commit and
-- sqlx's bookkeeping rebuilds the table once more and keeps every row.

PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

DROP TABLE IF EXISTS collections_rebuilt;
CREATE TABLE collections_rebuilt (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    rail TEXT NOT NULL CHECK (rail IN ('ach', 'card')),
    type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'pending', 'on_hold', 'submitted', 'processing',
                                           'completed', 'returned', 'failed', 'cancelled')),
    status_reason TEXT,
    status_history TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    currency TEXT NOT NULL,
    destination_account_id TEXT NOT NULL REFERENCES accounts (id),
    payment_method_id TEXT REFERENCES payment_methods (id),
    counterparty_id TEXT REFERENCES counterparties (id),
    -- The bank account debited, as it was when the collection was made.
    routing_number TEXT NOT NULL,
    account_number_sealed BLOB NOT NULL,
    account_last4 TEXT NOT NULL,
    account_fingerprint TEXT NOT NULL,
    account_type TEXT NOT NULL CHECK (account_type IN ('checking', 'savings')),
    holder_name TEXT NOT NULL,
    holder_type TEXT NOT NULL CHECK (holder_type IN ('individual', 'business')),
    sec_code TEXT NOT NULL CHECK (sec_code IN ('PPD', 'CCD', 'WEB', 'TEL')),
    processing_mode TEXT NOT NULL CHECK (processing_mode IN ('standard', 'same_day')),
    payment_type TEXT,
    effective_date TEXT NOT NULL,
    release_date TEXT NOT NULL,
    authorization_json TEXT NOT NULL,
    company_name TEXT NOT NULL,
    company_id TEXT NOT NULL,
    company_entry_description TEXT NOT NULL,
    addenda TEXT,
    reference TEXT,
    purpose TEXT,
    external_id TEXT,
    metadata TEXT NOT NULL,
    trace_number TEXT,
    file_id TEXT,
    return_code TEXT,
    return_trace TEXT,
    noc_code TEXT,
    noc_corrected_data TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    submitted_at BIGINT,
    completed_at BIGINT,
    returned_at BIGINT,
    hold_code TEXT,
    UNIQUE (customer_id, external_id),
    UNIQUE (file_id, trace_number)
);

INSERT INTO collections_rebuilt (id, customer_id, rail, type, status, status_reason, status_history, amount, currency, destination_account_id, payment_method_id, counterparty_id, routing_number, account_number_sealed, account_last4, account_fingerprint, account_type, holder_name, holder_type, sec_code, processing_mode, payment_type, effective_date, release_date, authorization_json, company_name, company_id, company_entry_description, addenda, reference, purpose, external_id, metadata, trace_number, file_id, return_code, return_trace, noc_code, noc_corrected_data, created_at, updated_at, submitted_at, completed_at, returned_at)
SELECT id, customer_id, rail, type, status, status_reason, status_history, amount, currency, destination_account_id, payment_method_id, counterparty_id, routing_number, account_number_sealed, account_last4, account_fingerprint, account_type, holder_name, holder_type, sec_code, processing_mode, payment_type, effective_date, release_date, authorization_json, company_name, company_id, company_entry_description, addenda, reference, purpose, external_id, metadata, trace_number, file_id, return_code, return_trace, noc_code, noc_corrected_data, created_at, updated_at, submitted_at, completed_at, returned_at FROM collections;

DROP TABLE collections;
ALTER TABLE collections_rebuilt RENAME TO collections;

CREATE INDEX collections_customer ON collections (customer_id, id);
CREATE INDEX collections_due ON collections (status, release_date);
CREATE INDEX collections_file ON collections (file_id);
CREATE INDEX collections_duplicates ON collections (customer_id, account_fingerprint, amount, created_at);
CREATE INDEX collections_trace ON collections (trace_number);
CREATE INDEX collections_held ON collections (status, payment_method_id) WHERE status = 'on_hold';

COMMIT;
PRAGMA foreign_keys = ON;

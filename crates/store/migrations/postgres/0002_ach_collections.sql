-- ACH collections, their files, inbound returns/NOCs, events (the webhook
-- outbox), counters and job leases.

CREATE TABLE collections (
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
    account_number_sealed BYTEA NOT NULL,
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
    trace_number TEXT UNIQUE,
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
    UNIQUE (customer_id, external_id)
);
CREATE INDEX collections_customer ON collections (customer_id, id);
CREATE INDEX collections_due ON collections (status, release_date);
CREATE INDEX collections_file ON collections (file_id);
CREATE INDEX collections_duplicates ON collections (customer_id, account_fingerprint, amount, created_at);

CREATE TABLE ach_files (
    id TEXT PRIMARY KEY,
    direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    status TEXT NOT NULL,
    file_name TEXT NOT NULL,
    creation_date TEXT NOT NULL,
    file_id_modifier TEXT,
    cutoff_at BIGINT,
    batch_count BIGINT NOT NULL,
    entry_count BIGINT NOT NULL,
    total_debit BIGINT NOT NULL,
    total_credit BIGINT NOT NULL,
    sha256 TEXT,
    summary TEXT,
    created_at BIGINT NOT NULL,
    written_at BIGINT,
    UNIQUE (direction, creation_date, file_id_modifier)
);
CREATE UNIQUE INDEX ach_files_inbound_content ON ach_files (sha256) WHERE direction = 'inbound';

CREATE TABLE ach_returns (
    id TEXT PRIMARY KEY,
    inbound_file_id TEXT NOT NULL REFERENCES ach_files (id),
    kind TEXT NOT NULL CHECK (kind IN ('return', 'noc', 'dishonored_return', 'contested_return', 'refused_noc')),
    code TEXT NOT NULL,
    original_trace TEXT NOT NULL,
    entry_trace TEXT NOT NULL,
    amount BIGINT NOT NULL,
    corrected_data TEXT,
    collection_id TEXT REFERENCES collections (id),
    matched BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (kind, original_trace, entry_trace, code)
);
CREATE INDEX ach_returns_collection ON ach_returns (collection_id);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    customer_id TEXT,
    type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_customer ON events (customer_id, id);
CREATE INDEX events_object ON events (object_id, id);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Foundation: customers, API keys, destination accounts, counterparties,
-- bank payment methods, idempotency records.
-- Times are unix microseconds (BIGINT); JSON is TEXT; money is integer minor units.

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('individual', 'business')),
    email TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    allow_one_time_source BOOLEAN NOT NULL,
    require_signed_requests BOOLEAN NOT NULL,
    ach_company_name TEXT,
    ach_company_id TEXT,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    customer_id TEXT REFERENCES customers (id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'customer')),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash BLOB NOT NULL UNIQUE,
    signing_secret_sealed BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    CHECK ((role = 'admin' AND customer_id IS NULL) OR (role = 'customer' AND customer_id IS NOT NULL))
);
CREATE INDEX api_keys_customer ON api_keys (customer_id, id);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'blocked', 'closed')),
    external_id TEXT,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (customer_id, external_id)
);
CREATE INDEX accounts_customer ON accounts (customer_id, id);

CREATE TABLE counterparties (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('individual', 'business')),
    email TEXT,
    external_id TEXT,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (customer_id, external_id)
);
CREATE INDEX counterparties_customer ON counterparties (customer_id, id);

CREATE TABLE payment_methods (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    counterparty_id TEXT REFERENCES counterparties (id),
    type TEXT NOT NULL CHECK (type IN ('us_bank_account', 'card')),
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'blocked')),
    status_reason TEXT,
    external_id TEXT,
    routing_number TEXT NOT NULL,
    account_number_sealed BLOB NOT NULL,
    account_last4 TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    account_type TEXT NOT NULL CHECK (account_type IN ('checking', 'savings')),
    holder_name TEXT NOT NULL,
    holder_type TEXT NOT NULL CHECK (holder_type IN ('individual', 'business')),
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (customer_id, external_id)
);
CREATE INDEX payment_methods_customer ON payment_methods (customer_id, id);
CREATE INDEX payment_methods_fingerprint ON payment_methods (customer_id, fingerprint);

-- A completed idempotent request: written in the same transaction as its
-- effect, so a key is recorded if and only if its effect committed.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Card rail (#8): saved cards (number sealed, never the security code),
-- card collections and their refunds. Card collections live beside the ACH
-- `collections` table (whose columns are the NACHA entry's) and share its
-- `col_` id space; the API merges the two.

CREATE TABLE card_payment_methods (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    counterparty_id TEXT REFERENCES counterparties (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'blocked')),
    external_id TEXT,
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL,
    exp_month BIGINT NOT NULL,
    exp_year BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    number_sealed BLOB NOT NULL,
    holder_name TEXT NOT NULL,
    billing_address TEXT NOT NULL,
    cvc_check TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (customer_id, external_id)
);
CREATE INDEX card_payment_methods_customer ON card_payment_methods (customer_id, id);
CREATE INDEX card_payment_methods_fingerprint ON card_payment_methods (customer_id, fingerprint);

CREATE TABLE card_collections (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    type TEXT NOT NULL CHECK (type IN ('sale', 'authorization', 'force')),
    status TEXT NOT NULL CHECK (status IN ('authorized', 'captured', 'completed', 'declined', 'voided',
                                           'partially_refunded', 'refunded')),
    status_reason TEXT,
    status_history TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    authorized_amount BIGINT NOT NULL CHECK (authorized_amount >= 0),
    captured_amount BIGINT NOT NULL CHECK (captured_amount >= 0 AND captured_amount <= authorized_amount),
    refunded_amount BIGINT NOT NULL CHECK (refunded_amount >= 0 AND refunded_amount <= captured_amount),
    destination_account_id TEXT NOT NULL REFERENCES accounts (id),
    payment_method_id TEXT NOT NULL REFERENCES card_payment_methods (id),
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL,
    exp_month BIGINT NOT NULL,
    exp_year BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    approval_code TEXT,
    processor_ref TEXT,
    decline_code TEXT,
    decline_message TEXT,
    cvc_result TEXT,
    external_id TEXT,
    reference TEXT,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    authorized_at BIGINT,
    captured_at BIGINT,
    voided_at BIGINT,
    completed_at BIGINT,
    expires_at BIGINT,
    UNIQUE (customer_id, external_id)
);
CREATE INDEX card_collections_customer ON card_collections (customer_id, id);
CREATE INDEX card_collections_duplicates ON card_collections (customer_id, fingerprint, amount, created_at);
CREATE INDEX card_collections_status ON card_collections (status, expires_at);

CREATE TABLE card_refunds (
    id TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES card_collections (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    reason TEXT,
    processor_ref TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX card_refunds_collection ON card_refunds (collection_id, id);

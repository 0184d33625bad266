-- no-transaction
-- Card rail, second part: processor calls made outside database
-- transactions (reserve → call → confirm), settlement by batch close, fees
-- on card collections, per-card daily limits, refund states, and the
-- built-in sandbox processor's own books.
--
-- SQLite cannot change a CHECK constraint, so card_collections is rebuilt
-- for its new `pending` status (as in 0004: foreign keys off, one
-- transaction, copy, drop, rename).

PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

DROP TABLE IF EXISTS card_collections_rebuilt;
CREATE TABLE card_collections_rebuilt (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    type TEXT NOT NULL CHECK (type IN ('sale', 'authorization', 'force')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'authorized', 'captured', 'completed', 'declined', 'voided',
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
    fee_fixed BIGINT NOT NULL DEFAULT 0,
    fee_percentage_bps BIGINT NOT NULL DEFAULT 0,
    pending_operation TEXT,
    batch_id TEXT,
    UNIQUE (customer_id, external_id)
);
INSERT INTO card_collections_rebuilt (id, customer_id, type, status, status_reason, status_history, amount, currency, authorized_amount, captured_amount, refunded_amount, destination_account_id, payment_method_id, brand, last4, exp_month, exp_year, fingerprint, holder_name, approval_code, processor_ref, decline_code, decline_message, cvc_result, external_id, reference, metadata, created_at, updated_at, authorized_at, captured_at, voided_at, completed_at, expires_at)
    SELECT id, customer_id, type, status, status_reason, status_history, amount, currency, authorized_amount, captured_amount, refunded_amount, destination_account_id, payment_method_id, brand, last4, exp_month, exp_year, fingerprint, holder_name, approval_code, processor_ref, decline_code, decline_message, cvc_result, external_id, reference, metadata, created_at, updated_at, authorized_at, captured_at, voided_at, completed_at, expires_at FROM card_collections;
DROP TABLE card_collections;
ALTER TABLE card_collections_rebuilt RENAME TO card_collections;
CREATE INDEX card_collections_customer ON card_collections (customer_id, id);
CREATE INDEX card_collections_duplicates ON card_collections (customer_id, fingerprint, amount, created_at);
CREATE INDEX card_collections_status ON card_collections (status, expires_at);
CREATE INDEX card_collections_settlement ON card_collections (processor_ref);
CREATE INDEX card_collections_daily ON card_collections (customer_id, fingerprint, created_at);

ALTER TABLE card_refunds ADD COLUMN status TEXT NOT NULL DEFAULT 'succeeded'
    CHECK (status IN ('pending', 'succeeded', 'failed'));
ALTER TABLE card_refunds ADD COLUMN failure_reason TEXT;

-- The most one card may be charged per (US/Eastern) day for this customer.
ALTER TABLE customers ADD COLUMN card_daily_limit BIGINT NOT NULL DEFAULT 2499999
    CHECK (card_daily_limit >= 0);

-- Every call to the card processor, committed before it is made: the
-- reference is the processor's idempotency key, so a retry (by the client
-- with the same Idempotency-Key, or by the reconciliation job) can never
-- charge twice. One call at a time per collection.
CREATE TABLE card_processor_calls (
    reference TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES card_collections (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    operation TEXT NOT NULL CHECK (operation IN ('authorize', 'capture', 'void', 'refund')),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    refund_id TEXT REFERENCES card_refunds (id),
    reason TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    idempotency_scope TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX card_processor_calls_one_pending ON card_processor_calls (collection_id)
    WHERE state = 'pending';
CREATE UNIQUE INDEX card_processor_calls_idempotency ON card_processor_calls (idempotency_scope, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX card_processor_calls_due ON card_processor_calls (state, next_attempt_at);

-- The sandbox processor's state (what a real processor keeps on its side):
-- one row per transaction it knows, one per refund, never a card number.
CREATE TABLE sandbox_card_transactions (
    processor_ref TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    behaviour TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('authorized', 'captured', 'voided', 'settled', 'declined')),
    answer TEXT NOT NULL,
    authorized BIGINT NOT NULL,
    captured BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    batch_day TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sandbox_card_transactions_batch ON sandbox_card_transactions (state, batch_day);
CREATE TABLE sandbox_card_refunds (
    reference TEXT PRIMARY KEY,
    processor_ref TEXT NOT NULL REFERENCES sandbox_card_transactions (processor_ref),
    amount BIGINT NOT NULL CHECK (amount > 0),
    created_at BIGINT NOT NULL
);

COMMIT;
PRAGMA foreign_keys = ON;

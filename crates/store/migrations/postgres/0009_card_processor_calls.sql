-- Card rail, second part: processor calls made outside database
-- transactions (reserve → call → confirm), settlement by batch close, fees
-- on card collections, per-card daily limits, refund states, and the
-- built-in sandbox processor's own books.

ALTER TABLE card_collections DROP CONSTRAINT card_collections_status_check;
ALTER TABLE card_collections ADD CONSTRAINT card_collections_status_check
    CHECK (status IN ('pending', 'authorized', 'captured', 'completed', 'declined', 'voided',
                      'partially_refunded', 'refunded'));
ALTER TABLE card_collections ADD COLUMN fee_fixed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE card_collections ADD COLUMN fee_percentage_bps BIGINT NOT NULL DEFAULT 0;
-- The processor call in flight, as JSON (`operation`, `amount`, `reference`, `requestedAt`).
ALTER TABLE card_collections ADD COLUMN pending_operation TEXT;
-- The processor batch that settled it.
ALTER TABLE card_collections ADD COLUMN batch_id TEXT;
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

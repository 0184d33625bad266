-- Cards for real (#17): a real processor's token per saved card, disputes
-- (chargebacks) and their fee; card collections gain the statuses
-- `disputed`, `dispute_won`, `dispute_lost`; the ledger the postings
-- `card_disputed`, `card_dispute_fee`, `card_dispute_won`.

ALTER TABLE card_collections DROP CONSTRAINT card_collections_status_check;
ALTER TABLE card_collections ADD CONSTRAINT card_collections_status_check
    CHECK (status IN ('pending', 'authorized', 'captured', 'completed', 'declined', 'voided',
                      'partially_refunded', 'refunded', 'disputed', 'dispute_won', 'dispute_lost'));

ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('ach_submitted', 'ach_completed', 'ach_returned', 'ach_return_fee', 'ach_reversed',
                    'card_captured', 'card_settled', 'card_refunded', 'card_voided', 'adjustment',
                    'card_disputed', 'card_dispute_fee', 'card_dispute_won'));

-- A real card processor's own handle on a saved card (for Stripe a
-- customer and payment method, "cus_…/pm_…"), created from the card number
-- once and reused afterwards, so the number travels to each processor once
-- per card. Sealed with the Vault (context: payment method id + processor);
-- no foreign key: a token is made while the card is verified, before its
-- row is committed.
CREATE TABLE card_processor_tokens (
    payment_method_id TEXT NOT NULL,
    processor TEXT NOT NULL,
    token_sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (payment_method_id, processor)
);

-- One row per dispute (chargeback) a processor reported, by its own id:
-- a webhook and the reconciliation job reporting the same dispute apply it
-- once. `fee` is the customer's cardDisputeFee when it was opened.
CREATE TABLE card_disputes (
    processor_dispute_id TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES card_collections (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    fee BIGINT NOT NULL CHECK (fee >= 0),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX card_disputes_collection ON card_disputes (collection_id);

ALTER TABLE fee_schedules ADD COLUMN card_dispute_fee BIGINT NOT NULL DEFAULT 0
    CHECK (card_dispute_fee >= 0);

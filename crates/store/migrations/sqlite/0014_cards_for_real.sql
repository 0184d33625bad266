-- no-transaction
-- Cards for real (#17): a real processor's token per saved card, disputes
-- (chargebacks), their fee and their ledger postings.
--
-- Two CHECK constraints gain values (card_collections.status:
-- `disputed`, `dispute_won`, `dispute_lost`; ledger_transactions.kind:
-- `card_disputed`, `card_dispute_fee`, `card_dispute_won`). SQLite cannot
-- alter a CHECK constraint; widening one changes no stored row, so instead
-- of rebuilding the tables (and their triggers) the constraint's text is
-- edited in the schema, the procedure SQLite documents for such changes
-- ("Making Other Kinds Of Table Schema Changes"). Creating and dropping
-- `_bump` bumps the schema version so every connection reloads the schema.

BEGIN IMMEDIATE;
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''partially_refunded'', ''refunded''))',
                          '''partially_refunded'', ''refunded'', ''disputed'', ''dispute_won'', ''dispute_lost''))')
 WHERE type = 'table' AND name = 'card_collections';
UPDATE sqlite_schema
   SET sql = replace(sql, '''card_voided'', ''adjustment''))',
                          '''card_voided'', ''adjustment'', ''card_disputed'', ''card_dispute_fee'', ''card_dispute_won''))')
 WHERE type = 'table' AND name = 'ledger_transactions';
PRAGMA writable_schema = OFF;
CREATE TABLE _bump (x INTEGER);
DROP TABLE _bump;

-- A real card processor's own handle on a saved card (for Stripe a
-- customer and payment method, "cus_…/pm_…"), created from the card number
-- once and reused afterwards, so the number travels to each processor once
-- per card. Sealed with the Vault (context: payment method id + processor);
-- no foreign key: a token is made while the card is verified, before its
-- row is committed.
CREATE TABLE card_processor_tokens (
    payment_method_id TEXT NOT NULL,
    processor TEXT NOT NULL,
    token_sealed BLOB NOT NULL,
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

COMMIT;

-- The double-entry ledger (see docs/ledger.md), fee schedules and the fees
-- fixed on each collection when it is created.

ALTER TABLE collections ADD COLUMN fee_fixed BIGINT NOT NULL DEFAULT 0 CHECK (fee_fixed >= 0);
ALTER TABLE collections ADD COLUMN fee_same_day BIGINT NOT NULL DEFAULT 0 CHECK (fee_same_day >= 0);
ALTER TABLE collections ADD COLUMN fee_percentage BIGINT NOT NULL DEFAULT 0 CHECK (fee_percentage >= 0);
ALTER TABLE collections ADD COLUMN fee_return BIGINT NOT NULL DEFAULT 0 CHECK (fee_return >= 0);

-- One row per customer, and the operator's default (customer_id = 'default').
CREATE TABLE fee_schedules (
    customer_id TEXT PRIMARY KEY,
    ach_fixed BIGINT NOT NULL CHECK (ach_fixed >= 0),
    ach_same_day_surcharge BIGINT NOT NULL CHECK (ach_same_day_surcharge >= 0),
    ach_percentage_bps BIGINT NOT NULL CHECK (ach_percentage_bps BETWEEN 0 AND 10000),
    ach_percentage_min BIGINT NOT NULL CHECK (ach_percentage_min >= 0),
    ach_percentage_max BIGINT NOT NULL CHECK (ach_percentage_max >= 0),
    ach_return_fee BIGINT NOT NULL CHECK (ach_return_fee >= 0),
    card_percentage_bps BIGINT NOT NULL CHECK (card_percentage_bps BETWEEN 0 AND 10000),
    card_fixed BIGINT NOT NULL CHECK (card_fixed >= 0),
    updated_at BIGINT NOT NULL
);

-- Ledger accounts. `balance` is credits minus debits (credit-normal), kept
-- in the same transaction as the entries; `inflow ledger check` proves it
-- equals the sum of the entries.
CREATE TABLE ledger_accounts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('destination_pending', 'destination_available', 'ach_clearing',
                                       'card_clearing', 'fee_revenue', 'returns_losses')),
    account_id TEXT REFERENCES accounts (id),
    currency TEXT NOT NULL,
    balance BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    CHECK ((account_id IS NOT NULL) = (kind IN ('destination_pending', 'destination_available')))
);
CREATE INDEX ledger_accounts_account ON ledger_accounts (account_id);

-- A balanced group of entries. Entries are inserted first, then this row
-- seals them: a trigger checks that its counts and totals are exactly
-- those of its entries, CHECK makes debits equal credits, and no entry can
-- be added to a sealed transaction. Entries without a transaction fail the
-- deferred foreign key at commit.
CREATE TABLE ledger_transactions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('ach_submitted', 'ach_completed', 'ach_returned', 'ach_return_fee', 'ach_reversed',
                                       'card_captured', 'card_settled', 'card_refunded', 'card_voided', 'adjustment')),
    -- What the posting is for, unique per kind: a collection cannot be
    -- credited, completed or reversed twice.
    reference TEXT NOT NULL,
    collection_id TEXT,
    -- The destination account concerned (its ledger accounts reference it).
    account_id TEXT,
    currency TEXT NOT NULL,
    -- The banking-calendar day it belongs to (US/Eastern), for reports.
    posted_on TEXT NOT NULL,
    -- The collection's gross amount, for reports.
    gross_amount BIGINT NOT NULL CHECK (gross_amount >= 0),
    entry_count BIGINT NOT NULL CHECK (entry_count >= 2),
    total_debits BIGINT NOT NULL CHECK (total_debits > 0),
    total_credits BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK (total_debits = total_credits),
    -- Also the index that finds a collection's postings.
    UNIQUE (collection_id, kind, reference)
);
CREATE INDEX ledger_transactions_day ON ledger_transactions (posted_on, account_id);

-- Entries are numbered in insertion order (cheap to insert by the
-- hundred thousand; the API shows them as `len_<n>`). The collection and
-- the time come from the transaction.
CREATE TABLE ledger_entries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id) DEFERRABLE INITIALLY DEFERRED,
    ledger_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
    direction TEXT NOT NULL CHECK (direction IN ('debit', 'credit')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    -- The destination account whose ledger account this is (NULL for the
    -- operator's accounts), for listing.
    account_id TEXT
);
-- Covers the balance check of each transaction.
CREATE INDEX ledger_entries_transaction ON ledger_entries (transaction_id, direction, amount);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id) WHERE account_id IS NOT NULL;

CREATE FUNCTION ledger_entries_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_transactions WHERE id = NEW.transaction_id) THEN
        RAISE EXCEPTION 'ledger: entries cannot be added to a posted transaction';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_entries_sealed BEFORE INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_sealed();

CREATE FUNCTION ledger_transactions_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
    d BIGINT;
    c BIGINT;
BEGIN
    SELECT COUNT(*),
           COALESCE(SUM(CASE WHEN direction = 'debit' THEN amount END), 0),
           COALESCE(SUM(CASE WHEN direction = 'credit' THEN amount END), 0)
      INTO n, d, c
      FROM ledger_entries WHERE transaction_id = NEW.id;
    IF n <> NEW.entry_count OR d <> NEW.total_debits OR c <> NEW.total_credits THEN
        RAISE EXCEPTION 'ledger: transaction totals do not match its entries';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_transactions_balanced AFTER INSERT ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_transactions_balanced();

CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % rows are immutable', TG_TABLE_NAME;
END $$;
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();

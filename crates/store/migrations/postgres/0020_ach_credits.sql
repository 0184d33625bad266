-- ACH credits (issue #18): refunds of ACH collections by credit and NACHA
-- reversals. Collections gain the status `reversed`.
ALTER TABLE collections DROP CONSTRAINT collections_status_check;
ALTER TABLE collections ADD CONSTRAINT collections_status_check
    CHECK (status IN ('scheduled', 'pending', 'on_hold', 'batched', 'submitted', 'processing',
                      'completed', 'returned', 'failed', 'cancelled', 'reversed'));

-- ledger_transactions.kind gains the refund, reversal and credit-offset kinds.
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('ach_submitted', 'ach_completed', 'ach_returned', 'ach_return_fee', 'ach_reversed',
                    'card_captured', 'card_settled', 'card_refunded', 'card_voided', 'adjustment',
                    'card_disputed', 'card_dispute_fee', 'card_dispute_won', 'ach_offset',
                    'ach_refund', 'ach_refund_returned', 'ach_refund_cancelled',
                    'ach_reversal_returned', 'ach_credit_offset'));

-- Outbound ACH credit entries (issue #18): refunds of ACH collections by
-- credit (`kind = 'refund'`, ids `rfd_…`) and NACHA reversing entries of
-- erroneous debits (`kind = 'reversal'`, ids `rvs_…`). The cutoff files
-- them in credit files of their own (`ach_files.contents = 'credits'`),
-- with trace numbers from the ODFI's counter; the receiver's account is
-- the collection's (its sealed snapshot), so no account number is stored
-- here. Lifecycle: pending → batched → submitted → completed, or returned;
-- a reversal whose collection was returned before filing is cancelled.
CREATE TABLE ach_credit_entries (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('refund', 'reversal')),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    collection_id TEXT NOT NULL REFERENCES collections (id),
    destination_account_id TEXT NOT NULL REFERENCES accounts (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'batched', 'submitted', 'completed',
                                           'returned', 'cancelled')),
    status_reason TEXT,
    sec_code TEXT NOT NULL,
    company_entry_description TEXT NOT NULL,
    reason TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    before_completion BOOLEAN NOT NULL DEFAULT FALSE,
    reversal_of_file_id TEXT,
    effective_date TEXT,
    trace_number TEXT,
    file_id TEXT,
    return_code TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    submitted_at BIGINT,
    completed_at BIGINT,
    returned_at BIGINT
);
CREATE INDEX ach_credit_entries_collection ON ach_credit_entries (collection_id, id);
CREATE INDEX ach_credit_entries_status ON ach_credit_entries (status, id);
CREATE INDEX ach_credit_entries_trace ON ach_credit_entries (trace_number);
CREATE INDEX ach_credit_entries_file ON ach_credit_entries (file_id);
-- One reversal per collection, ever (a retry finds it).
CREATE UNIQUE INDEX ach_credit_entries_one_reversal ON ach_credit_entries (collection_id)
    WHERE kind = 'reversal';

-- What an outbound file holds: `debits` (collections, with any offsets),
-- `credits` (credit entries) or `credit_offsets` (the offset debits of a
-- credit file, for an ODFI that wants debits and credits apart).
ALTER TABLE ach_files ADD COLUMN contents TEXT NOT NULL DEFAULT 'debits';

-- The operator may let an account's available balance go negative (a
-- refund is otherwise refused when it would).
ALTER TABLE accounts ADD COLUMN allow_negative_balance BOOLEAN NOT NULL DEFAULT FALSE;

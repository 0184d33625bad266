-- Balanced files (#16): an ODFI may require every batch to end with an
-- offsetting credit to the operator's settlement account. That entry is
-- posted in the ledger as `ach_offset` (Dr `ach_settlement`, Cr
-- `ach_clearing`), so ledger_accounts.kind gains `ach_settlement` and
-- ledger_transactions.kind gains `ach_offset`.

ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
    CHECK (kind IN ('destination_pending', 'destination_available', 'ach_clearing',
                    'card_clearing', 'fee_revenue', 'returns_losses', 'ach_settlement'));

ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('ach_submitted', 'ach_completed', 'ach_returned', 'ach_return_fee', 'ach_reversed',
                    'card_captured', 'card_settled', 'card_refunded', 'card_voided', 'adjustment',
                    'card_disputed', 'card_dispute_fee', 'card_dispute_won', 'ach_offset'));

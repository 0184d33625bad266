-- no-transaction
-- Balanced files (#16): an ODFI may require every batch to end with an
-- offsetting credit to the operator's settlement account. That entry is
-- posted in the ledger as `ach_offset` (Dr `ach_settlement`, Cr
-- `ach_clearing`), so ledger_accounts.kind gains `ach_settlement` and
-- ledger_transactions.kind gains `ach_offset`.
--
-- As in 0014 and 0016: SQLite cannot alter a CHECK constraint; widening one
-- changes no stored row, so the constraint's text is edited in the schema
-- (SQLite's documented procedure) and `_bump` makes every connection
-- reload it.

BEGIN IMMEDIATE;
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''fee_revenue'', ''returns_losses''))',
                          '''fee_revenue'', ''returns_losses'', ''ach_settlement''))')
 WHERE type = 'table' AND name = 'ledger_accounts';
UPDATE sqlite_schema
   SET sql = replace(sql, '''card_dispute_fee'', ''card_dispute_won''))',
                          '''card_dispute_fee'', ''card_dispute_won'', ''ach_offset''))')
 WHERE type = 'table' AND name = 'ledger_transactions';
PRAGMA writable_schema = OFF;
CREATE TABLE _bump (x INTEGER);
DROP TABLE _bump;
COMMIT;

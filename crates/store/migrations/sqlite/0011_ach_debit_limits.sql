-- Limits on a customer's ACH debits, in minor units; NULL: the operator's
-- default from the `[ach]` configuration applies.
ALTER TABLE customers ADD COLUMN ach_per_entry_max BIGINT CHECK (ach_per_entry_max >= 0);
ALTER TABLE customers ADD COLUMN ach_daily_debit_max BIGINT CHECK (ach_daily_debit_max >= 0);
ALTER TABLE customers ADD COLUMN ach_monthly_debit_max BIGINT CHECK (ach_monthly_debit_max >= 0);

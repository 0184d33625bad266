-- Several ODFIs (issue #16): a customer is assigned to one `[[odfi]]`
-- profile by its id; NULL is the default ODFI.
ALTER TABLE customers ADD COLUMN odfi_id TEXT;

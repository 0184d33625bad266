-- Secrets at rest (issue #13, part 3).
--
-- A notification of change's corrected data can carry a DFI account number
-- (C01, C03, C06, C07). It is now kept sealed (AES-256-GCM, the row id as
-- associated data) in the *_sealed columns; the old text columns keep the
-- corrected data with the account number masked (`****0001`), and
-- collections.noc_correction holds its structured, non-secret parts as JSON
-- (routing number, account last 4 and fingerprint, account type, name, ID).
-- Rows written before this migration still hold plaintext: sealing needs the
-- master key, so `inflow serve` / `inflow migrate` seal them at start-up
-- (inflow_engine::inbound::legacy).
ALTER TABLE collections ADD COLUMN noc_corrected_data_sealed BYTEA;
ALTER TABLE collections ADD COLUMN noc_correction TEXT;
ALTER TABLE ach_returns ADD COLUMN corrected_data_sealed BYTEA;
-- Rows still in clear: what the start-up step looks for (empty once done).
CREATE INDEX collections_noc_plaintext ON collections (id)
    WHERE noc_corrected_data IS NOT NULL AND noc_correction IS NULL;
CREATE INDEX ach_returns_plaintext ON ach_returns (id)
    WHERE corrected_data IS NOT NULL AND corrected_data_sealed IS NULL;

-- The company names (NACHA batch header) a customer may put on a
-- collection besides its own achCompanyName: a JSON array of strings,
-- each already validated and upper-cased. Set by the operator.
ALTER TABLE customers ADD COLUMN allowed_company_names TEXT NOT NULL DEFAULT '[]';

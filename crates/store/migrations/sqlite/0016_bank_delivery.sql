-- no-transaction
-- Bank connectivity (#16): every outbound file has a delivery state, and
-- collections gain the status `batched` (in a built file not yet uploaded;
-- they become `submitted` when the file is uploaded).
--
-- delivery_status: `built` (bytes recorded, not yet sent to the ODFI),
-- `uploading` (an attempt started; a crash here is resolved by uploading
-- again, which the transport recognises when the same bytes are already
-- there), `uploaded`, `acknowledged` (the bank's acknowledgement matched)
-- or `upload_failed` (retries ran out or the error is permanent: an
-- operator retries or marks it uploaded by hand). NULL for inbound files.
--
-- Outbound files created before this migration were handed over by an
-- operator moving them from the outbound folder: they are recorded as
-- `uploaded` by `before-delivery-tracking`, so the delivery job never
-- sends them.
BEGIN IMMEDIATE;

-- The collections.status CHECK gains `batched`. SQLite cannot alter a CHECK
-- constraint; widening one changes no stored row, so the constraint's text
-- is edited in the schema as in 0014 (SQLite's documented procedure), and
-- `_bump` makes every connection reload the schema (this one reloads it at
-- the ALTER TABLEs below, which is why the edit comes first).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''on_hold'', ''submitted'',', '''on_hold'', ''batched'', ''submitted'',')
 WHERE type = 'table' AND name = 'collections';
PRAGMA writable_schema = OFF;
CREATE TABLE _bump (x INTEGER);
DROP TABLE _bump;

ALTER TABLE ach_files ADD COLUMN odfi_id TEXT;
ALTER TABLE ach_files ADD COLUMN delivery_status TEXT;
ALTER TABLE ach_files ADD COLUMN delivery_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ach_files ADD COLUMN delivery_error TEXT;
ALTER TABLE ach_files ADD COLUMN next_attempt_at BIGINT;
ALTER TABLE ach_files ADD COLUMN uploaded_at BIGINT;
ALTER TABLE ach_files ADD COLUMN uploaded_by TEXT;
ALTER TABLE ach_files ADD COLUMN upload_location TEXT;
ALTER TABLE ach_files ADD COLUMN acknowledged_at BIGINT;

UPDATE ach_files
   SET delivery_status = 'uploaded',
       uploaded_by = 'before-delivery-tracking',
       uploaded_at = COALESCE(written_at, created_at)
 WHERE direction = 'outbound';

CREATE INDEX ach_files_delivery ON ach_files (delivery_status, id) WHERE direction = 'outbound';

COMMIT;

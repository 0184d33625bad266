-- Bank connectivity (#16), continued: a destination account may be
-- assigned to an `[[odfi]]` profile of its own (NULL: its customer's
-- ODFI), and a return of a balanced file's offset entry records the
-- outbound file whose offset it returns (NULL for every other return).
ALTER TABLE accounts ADD COLUMN odfi_id TEXT;
ALTER TABLE ach_returns ADD COLUMN offset_file_id TEXT;

-- The offset entries of balanced files, by trace number, so that a return
-- of one (the bank refusing the settlement account's credit) is matched to
-- the file that carried it. Traces repeat only after the 7-digit sequence
-- wraps; the newest file with the trace is the one returned.
CREATE TABLE ach_offset_entries (
    trace_number TEXT NOT NULL,
    file_id TEXT NOT NULL REFERENCES ach_files (id),
    amount BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (trace_number, file_id)
);

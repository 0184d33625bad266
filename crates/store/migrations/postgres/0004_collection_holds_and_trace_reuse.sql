-- Trace numbers are unique within a file, not forever: the 7-digit sequence
-- wraps after 9,999,999 entries. A held collection records why it is held.

ALTER TABLE collections DROP CONSTRAINT collections_trace_number_key;
CREATE UNIQUE INDEX collections_file_trace ON collections (file_id, trace_number);
CREATE INDEX collections_trace ON collections (trace_number);
ALTER TABLE collections ADD COLUMN hold_code TEXT;
CREATE INDEX collections_held ON collections (status, payment_method_id) WHERE status = 'on_hold';

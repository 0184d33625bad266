-- Recurring ACH debit schedules, and the link from each collection to the
-- schedule occurrence (or retry) it was created for.

CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'cancelled', 'completed', 'stopped')),
    status_reason TEXT,
    status_history TEXT NOT NULL,
    payment_method_id TEXT NOT NULL REFERENCES payment_methods (id),
    destination_account_id TEXT NOT NULL REFERENCES accounts (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    amount_changed_at BIGINT,
    amount_history TEXT NOT NULL,
    sec_code TEXT NOT NULL CHECK (sec_code IN ('PPD', 'CCD', 'WEB', 'TEL')),
    authorization_json TEXT NOT NULL,
    frequency TEXT NOT NULL CHECK (frequency IN ('weekly', 'every_two_weeks', 'monthly', 'quarterly', 'annually')),
    start_date TEXT NOT NULL,
    end_date TEXT,
    occurrences BIGINT CHECK (occurrences > 0),
    day_of_month TEXT,
    company_entry_description TEXT,
    reference TEXT,
    external_id TEXT,
    metadata TEXT NOT NULL,
    retry_max BIGINT,
    retry_days_after_return BIGINT,
    -- The next occurrence to create (1-based) and its run date (NULL once all exist).
    next_occurrence BIGINT NOT NULL CHECK (next_occurrence > 0),
    next_run_date TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (customer_id, external_id),
    CHECK ((end_date IS NULL) <> (occurrences IS NULL))
);
CREATE INDEX schedules_customer ON schedules (customer_id, id);
CREATE INDEX schedules_due ON schedules (status, next_run_date);
CREATE INDEX schedules_payment_method ON schedules (payment_method_id, status);

ALTER TABLE collections ADD COLUMN schedule_id TEXT REFERENCES schedules (id);
ALTER TABLE collections ADD COLUMN occurrence BIGINT;
-- 0 for an occurrence's first presentment, 1 and 2 for its retries.
ALTER TABLE collections ADD COLUMN retry_number BIGINT;
ALTER TABLE collections ADD COLUMN retry_of TEXT REFERENCES collections (id);
-- An occurrence (and each of its retries) exists at most once, whichever
-- node creates it. Ordinary collections have NULLs here and are not limited.
CREATE UNIQUE INDEX collections_schedule_occurrence ON collections (schedule_id, occurrence, retry_number);

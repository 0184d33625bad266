-- Customer ACH policy (prenotes, validated accounts for WEB, a default
-- authorization) and account validation on saved bank accounts.

ALTER TABLE customers ADD COLUMN require_prenote BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customers ADD COLUMN web_requires_validated_account BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customers ADD COLUMN default_authorization TEXT;

ALTER TABLE payment_methods ADD COLUMN validation_status TEXT NOT NULL DEFAULT 'unvalidated'
    CHECK (validation_status IN ('unvalidated', 'pending', 'validated', 'failed'));
ALTER TABLE payment_methods ADD COLUMN validation_method TEXT;
ALTER TABLE payment_methods ADD COLUMN validation_prenote_id TEXT;
ALTER TABLE payment_methods ADD COLUMN validated_at BIGINT;

-- A real card processor's own handle on a saved card (for Stripe a
-- customer and payment method, "cus_…/pm_…"), created from the card number
-- once and reused afterwards, so the number travels to each processor once
-- per card. Sealed with the Vault (context: payment method id + processor);
-- no foreign key: a token is made while the card is verified, before its
-- row is committed.
CREATE TABLE card_processor_tokens (
    payment_method_id TEXT NOT NULL,
    processor TEXT NOT NULL,
    token_sealed BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (payment_method_id, processor)
);

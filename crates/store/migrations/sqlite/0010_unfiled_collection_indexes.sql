-- A status change of a destination account, payment method or customer
-- moves every collection of it not yet in a file (`scheduled`, `pending`,
-- `on_hold`). These partial indexes find those few rows among all of them;
-- a collection leaves them when it is filed. The condition is written
-- exactly as the queries write it (`inflow_store::repo::eligibility`), so
-- SQLite can use them.

CREATE INDEX collections_unfiled_account ON collections (destination_account_id)
    WHERE status IN ('scheduled', 'pending', 'on_hold');
CREATE INDEX collections_unfiled_payment_method ON collections (payment_method_id)
    WHERE status IN ('scheduled', 'pending', 'on_hold');
CREATE INDEX collections_unfiled_customer ON collections (customer_id)
    WHERE status IN ('scheduled', 'pending', 'on_hold');

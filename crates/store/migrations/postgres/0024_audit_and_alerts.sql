-- The audit trail and alerts (#19).
--
-- audit_events: one row per state-changing operator or customer action,
-- written in the transaction of the change. Append-only: triggers refuse
-- UPDATE, DELETE and TRUNCATE, as for the ledger.
--
-- alert_states: which alerts are raised now (a row per raised alert), so an
-- alert event is emitted once when its condition starts and re-armed when
-- the condition ends (the row is deleted).
--
-- webhook_endpoints.customer_id becomes nullable: an endpoint without a
-- customer belongs to the operator and receives operator events and alerts.

ALTER TABLE webhook_endpoints ALTER COLUMN customer_id DROP NOT NULL;

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    -- api_key (actor_id is the key id), cli, startup or system.
    actor_type TEXT NOT NULL,
    actor_id TEXT,
    -- The customer the request acted for, if any.
    customer_id TEXT,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    request_id TEXT,
    client_ip TEXT,
    -- JSON, secrets masked; NULL when there is no before (a creation) or after.
    before_state TEXT,
    after_state TEXT,
    -- Wall clock (unix microseconds), and the business clock (sandbox time).
    created_at BIGINT NOT NULL,
    business_time BIGINT NOT NULL
);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_object ON audit_events (object_id, id);
CREATE INDEX audit_events_action ON audit_events (action, id);

CREATE FUNCTION audit_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit: % rows are immutable', TG_TABLE_NAME;
END $$;
CREATE TRIGGER audit_events_immutable BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_immutable();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_immutable();

CREATE TABLE alert_states (
    alert_key TEXT PRIMARY KEY,
    detail TEXT NOT NULL,
    raised_at BIGINT NOT NULL
);

-- The alert sweep looks for customers with recent returns.
CREATE INDEX collections_returned ON collections (returned_at) WHERE status = 'returned';

CREATE INDEX webhook_endpoints_operator ON webhook_endpoints (id) WHERE customer_id IS NULL;

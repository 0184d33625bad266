-- Webhooks: endpoints, deliveries (one per event and endpoint) and the log
-- of their attempts. Deliveries are created in the same transaction as the
-- event they carry (see repo/events.rs), so an event can never be committed
-- without them.

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    url TEXT NOT NULL,
    -- JSON array: exact types, "resource.*" or "*".
    enabled_events TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
    disabled_reason TEXT,
    disabled_at BIGINT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    -- AES-256-GCM with the endpoint id as associated data.
    secret_sealed BYTEA NOT NULL,
    previous_secret_sealed BYTEA,
    previous_secret_expires_at BIGINT,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_customer ON webhook_endpoints (customer_id, id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id),
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- Copied from the event: per-object ordering and the delivery log.
    object_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    -- Business (sandbox) clock; NULL once the delivery is final.
    next_attempt_at BIGINT,
    -- Retries stop at window_start + the configured retry window.
    window_start BIGINT NOT NULL,
    last_attempt_at BIGINT,
    last_status_code BIGINT,
    last_latency_ms BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    -- Who is delivering it now, until when (wall clock).
    claimed_by TEXT,
    claimed_until BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, object_id, event_id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    attempted_at BIGINT NOT NULL,
    status_code BIGINT,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    succeeded BOOLEAN NOT NULL,
    PRIMARY KEY (delivery_id, number)
);

CREATE INDEX events_customer_type ON events (customer_id, type, id);

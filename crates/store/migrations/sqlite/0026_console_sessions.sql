-- The operator console's sessions (#20). An operator signs in with an
-- operator API key; the session lives here, not in the process, so it works
-- on every node behind a load balancer. Only the SHA-256 (hex) of the
-- session token is stored: a copy of this table signs nobody in.
-- Times are wall-clock unix microseconds (the sandbox's moved business
-- clock never expires or extends a session).
CREATE TABLE console_sessions (
    token_hash TEXT NOT NULL PRIMARY KEY,
    api_key_id TEXT NOT NULL REFERENCES api_keys (id),
    -- The per-session CSRF token every console form carries.
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    -- Idle expiry: last_seen_at + the configured idle time.
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

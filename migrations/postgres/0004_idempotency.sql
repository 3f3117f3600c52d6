-- Safe retries (Stripe's Idempotency-Key semantics): the first response to a key is
-- kept for 24 hours and replayed to the same member sending the same request again.
CREATE TABLE idempotency_keys (
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    -- NULL while the first request is still running.
    status_code BIGINT,
    content_type TEXT,
    response_body TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (member_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

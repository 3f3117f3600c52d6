-- Abuse-limit counters shared by every instance (used on PostgreSQL; SQLite runs one
-- process and counts in memory): one fixed window per bucket.
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY,
    window_start TEXT NOT NULL,
    hits BIGINT NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

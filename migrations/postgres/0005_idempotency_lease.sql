-- A claim on an Idempotency-Key is a lease: a request that never finishes (a crash, a
-- dropped connection) cannot hold its key for longer than about a request's deadline.
ALTER TABLE idempotency_keys ADD COLUMN locked_until TEXT;

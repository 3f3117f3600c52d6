-- Notifications: written in the transaction of the change they report. Ids increase with
-- commit order (SQLite has one writer), so a stream resumes with `id > last seen`.
-- Email: `email` is 'pending' (to send), 'sent', 'off' (not wanted or not configured) or
-- 'failed' (gave up); the worker claims a pending row until `email_claimed_until`.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    artwork_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT,
    email TEXT NOT NULL DEFAULT 'off' CHECK (email IN ('pending', 'sent', 'off', 'failed')),
    email_attempts INTEGER NOT NULL DEFAULT 0,
    email_due_at TEXT,
    email_claimed_until TEXT
);
CREATE INDEX notifications_recipient ON notifications (recipient_id, id);
CREATE INDEX notifications_unread ON notifications (recipient_id) WHERE read_at IS NULL;
CREATE INDEX notifications_email_due ON notifications (email_due_at) WHERE email = 'pending';

ALTER TABLE members ADD COLUMN email_notifications INTEGER NOT NULL DEFAULT 1 CHECK (email_notifications IN (0, 1));

-- Single-use tickets that open a notification stream where no header can be sent
-- (EventSource); the table keeps their digest.
CREATE TABLE stream_tickets (
    id_hash TEXT PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);
CREATE INDEX stream_tickets_expires ON stream_tickets (expires_at);

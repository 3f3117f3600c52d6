-- Web sessions: the browser holds a random value in an HttpOnly cookie; the table holds
-- its SHA-256, so a copy of the database opens no session. A session ends at logout
-- (its row is deleted), when it expires, or when the member's password changes (the
-- generation it was opened at no longer matches the member's).
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    generation BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_member ON sessions (member_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

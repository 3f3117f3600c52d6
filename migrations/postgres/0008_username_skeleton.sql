-- Usernames that look alike are one username: uniqueness holds on the UTS #39
-- confusable skeleton of the lower-cased NFKC form. The server fills it for existing
-- members at start (it is computed in Rust, not SQL).
ALTER TABLE members ADD COLUMN username_skeleton TEXT;
CREATE UNIQUE INDEX members_username_skeleton ON members (username_skeleton);

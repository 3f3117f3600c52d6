-- Image files uploaded to OpenStudio. The stored objects are keyed by the hash of the
-- uploaded file, so a file uploaded twice is stored once; each uploader has their own
-- row, because only the uploader may attach an upload to an artwork.
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uploader_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    -- SHA-256 of the uploaded file; the stored objects' keys start with it.
    source_hash TEXT NOT NULL,
    key TEXT NOT NULL,
    thumbnail_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (uploader_id, key)
);
CREATE INDEX uploads_key ON uploads (key);
CREATE INDEX uploads_source_hash ON uploads (source_hash);
CREATE INDEX uploads_created ON uploads (created_at);

ALTER TABLE artwork_images ADD COLUMN upload_id INTEGER REFERENCES uploads (id) ON DELETE SET NULL;
CREATE INDEX artwork_images_upload ON artwork_images (upload_id);

-- One row per stored pair of objects (image and thumbnail), locked while they are written
-- or removed, so that an upload of a file and the sweep of the same file never cross.
CREATE TABLE stored_objects (
    key TEXT PRIMARY KEY,
    thumbnail_key TEXT NOT NULL,
    created_at TEXT NOT NULL
);

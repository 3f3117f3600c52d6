-- Browse at scale: an index behind every filter and ordering of the artwork list
-- (partial: only artworks on show), and FTS5 full-text search kept in step by triggers,
-- inside the same transaction as each change.
CREATE INDEX artworks_visible_created ON artworks (created_at, id) WHERE archived_at IS NULL;
CREATE INDEX artworks_visible_price ON artworks (price_pence, id) WHERE archived_at IS NULL;
CREATE INDEX artworks_visible_year ON artworks (year, id) WHERE archived_at IS NULL;
CREATE INDEX artworks_visible_title ON artworks (LOWER(title), id) WHERE archived_at IS NULL;
CREATE INDEX artworks_visible_medium ON artworks (medium, created_at) WHERE archived_at IS NULL;
CREATE INDEX artworks_visible_for_sale ON artworks (is_for_sale, created_at) WHERE archived_at IS NULL;
CREATE INDEX orders_seller_status ON orders (seller_id, status);
CREATE INDEX orders_buyer_unviewed ON orders (buyer_id) WHERE viewed_by_buyer = 0;
CREATE INDEX orders_seller_unviewed ON orders (seller_id) WHERE viewed_by_seller = 0;

CREATE VIRTUAL TABLE artworks_fts USING fts5 (
    title, description, material, artist_name,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

INSERT INTO artworks_fts (rowid, title, description, material, artist_name)
SELECT a.id, a.title, a.description, a.material, m.first_name || ' ' || m.last_name || ' ' || m.username
FROM artworks a JOIN members m ON m.id = a.artist_id;

CREATE TRIGGER artworks_fts_insert AFTER INSERT ON artworks BEGIN
    INSERT INTO artworks_fts (rowid, title, description, material, artist_name)
    SELECT new.id, new.title, new.description, new.material, m.first_name || ' ' || m.last_name || ' ' || m.username
    FROM members m WHERE m.id = new.artist_id;
END;

CREATE TRIGGER artworks_fts_update AFTER UPDATE OF title, description, material, artist_id ON artworks BEGIN
    DELETE FROM artworks_fts WHERE rowid = old.id;
    INSERT INTO artworks_fts (rowid, title, description, material, artist_name)
    SELECT new.id, new.title, new.description, new.material, m.first_name || ' ' || m.last_name || ' ' || m.username
    FROM members m WHERE m.id = new.artist_id;
END;

CREATE TRIGGER artworks_fts_delete AFTER DELETE ON artworks BEGIN
    DELETE FROM artworks_fts WHERE rowid = old.id;
END;

CREATE TRIGGER members_fts_update AFTER UPDATE OF first_name, last_name, username ON members BEGIN
    DELETE FROM artworks_fts WHERE rowid IN (SELECT id FROM artworks WHERE artist_id = new.id);
    INSERT INTO artworks_fts (rowid, title, description, material, artist_name)
    SELECT a.id, a.title, a.description, a.material, new.first_name || ' ' || new.last_name || ' ' || new.username
    FROM artworks a WHERE a.artist_id = new.id;
END;

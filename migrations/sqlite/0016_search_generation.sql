-- Each server searches the catalogue in an index of its own, in memory
-- (src/artworks/search.rs). This count rises in the same transaction as every change to
-- the text it holds (an artwork's title, description or material, its artist's names)
-- or to what is on show, and tells every server when to read the text again.
CREATE TABLE search_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO search_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER search_generation_artworks_insert AFTER INSERT ON artworks BEGIN
    UPDATE search_generation SET generation = generation + 1;
END;

CREATE TRIGGER search_generation_artworks_delete AFTER DELETE ON artworks BEGIN
    UPDATE search_generation SET generation = generation + 1;
END;

CREATE TRIGGER search_generation_artworks_update
AFTER UPDATE OF title, description, material, artist_id, archived_at, created_at ON artworks
WHEN old.title IS NOT new.title OR old.description IS NOT new.description
    OR old.material IS NOT new.material OR old.artist_id IS NOT new.artist_id
    OR (old.archived_at IS NULL) IS NOT (new.archived_at IS NULL) OR old.created_at IS NOT new.created_at
BEGIN
    UPDATE search_generation SET generation = generation + 1;
END;

-- Only an artist's names are searched: a collector's new name changes nothing.
CREATE TRIGGER search_generation_members_update AFTER UPDATE OF first_name, last_name, username ON members
WHEN (old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name
    OR old.username IS NOT new.username) AND EXISTS (SELECT 1 FROM artworks WHERE artist_id = new.id)
BEGIN
    UPDATE search_generation SET generation = generation + 1;
END;

-- The database's own search index is read no more; its triggers no longer slow every
-- change to an artwork or a name.
DROP TRIGGER artworks_fts_insert;
DROP TRIGGER artworks_fts_update;
DROP TRIGGER artworks_fts_delete;
DROP TRIGGER members_fts_update;
DROP TABLE artworks_fts;

-- Each artwork, and each artist, carries the search count (search_generation) its last
-- change to the searched text raised: a server follows the catalogue's changes by
-- reading the artworks marked after its index's count, not all of them again
-- (src/artworks/search.rs). The marks are set by the triggers that raise the count, in
-- the same transaction; SQLite has one writer at a time, so a reader that saw a count
-- has seen every row marked with it or below.
ALTER TABLE artworks ADD COLUMN search_mark INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN search_mark INTEGER NOT NULL DEFAULT 0;
CREATE INDEX artworks_search_mark_idx ON artworks (search_mark);
CREATE INDEX members_search_mark_idx ON members (search_mark);

-- Setting a mark fires no trigger: each trigger on these tables names the columns it
-- follows, and search_mark is none of them.
DROP TRIGGER search_generation_artworks_insert;
CREATE TRIGGER search_generation_artworks_insert AFTER INSERT ON artworks BEGIN
    UPDATE search_generation SET generation = generation + 1;
    UPDATE artworks SET search_mark = (SELECT generation FROM search_generation) WHERE id = new.id;
END;

DROP TRIGGER search_generation_artworks_update;
CREATE TRIGGER search_generation_artworks_update
AFTER UPDATE OF title, description, material, artist_id, archived_at, created_at ON artworks
WHEN old.title IS NOT new.title OR old.description IS NOT new.description
    OR old.material IS NOT new.material OR old.artist_id IS NOT new.artist_id
    OR (old.archived_at IS NULL) IS NOT (new.archived_at IS NULL) OR old.created_at IS NOT new.created_at
BEGIN
    UPDATE search_generation SET generation = generation + 1;
    UPDATE artworks SET search_mark = (SELECT generation FROM search_generation) WHERE id = new.id;
END;

DROP TRIGGER search_generation_members_update;
CREATE TRIGGER search_generation_members_update AFTER UPDATE OF first_name, last_name, username ON members
WHEN (old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name
    OR old.username IS NOT new.username) AND EXISTS (SELECT 1 FROM artworks WHERE artist_id = new.id)
BEGIN
    UPDATE search_generation SET generation = generation + 1;
    UPDATE members SET search_mark = (SELECT generation FROM search_generation) WHERE id = new.id;
END;

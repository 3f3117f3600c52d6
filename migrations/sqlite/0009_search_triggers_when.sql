-- Rewrite search rows only when what they hold changed: saving a profile or an artwork
-- with the same names and texts (the first version's client sends every field back)
-- no longer rewrites the search rows of all of an artist's artworks under the write lock.
DROP TRIGGER artworks_fts_update;
CREATE TRIGGER artworks_fts_update AFTER UPDATE OF title, description, material, artist_id ON artworks
WHEN old.title IS NOT new.title OR old.description IS NOT new.description
    OR old.material IS NOT new.material OR old.artist_id IS NOT new.artist_id
BEGIN
    DELETE FROM artworks_fts WHERE rowid = old.id;
    INSERT INTO artworks_fts (rowid, title, description, material, artist_name)
    SELECT new.id, new.title, new.description, new.material, m.first_name || ' ' || m.last_name || ' ' || m.username
    FROM members m WHERE m.id = new.artist_id;
END;

DROP TRIGGER members_fts_update;
CREATE TRIGGER members_fts_update AFTER UPDATE OF first_name, last_name, username ON members
WHEN old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name
    OR old.username IS NOT new.username
BEGIN
    DELETE FROM artworks_fts WHERE rowid IN (SELECT id FROM artworks WHERE artist_id = new.id);
    INSERT INTO artworks_fts (rowid, title, description, material, artist_name)
    SELECT a.id, a.title, a.description, a.material, new.first_name || ' ' || new.last_name || ' ' || new.username
    FROM artworks a WHERE a.artist_id = new.id;
END;

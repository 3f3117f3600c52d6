-- Each server searches the catalogue in an index of its own, in memory
-- (src/artworks/search.rs). This count rises in the same transaction as every change to
-- the text it holds (an artwork's title, description or material, its artist's names)
-- or to what is on show, and tells every server when to read the text again.
--
-- The triggers run BEFORE the change, so a transaction takes the count's row lock before
-- any row of catalogue_counts (whose triggers run after): every writer takes the two in
-- the same order, and none waits for another in a cycle. Inserts and deletes raise it
-- once a statement, so an import of many artworks takes the lock once.
CREATE TABLE search_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO search_generation (id, generation) VALUES (1, 0);

CREATE FUNCTION search_generation_raise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_generation SET generation = generation + 1;
    IF TG_LEVEL = 'ROW' THEN
        RETURN NEW;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER search_generation_artworks_insert_delete BEFORE INSERT OR DELETE ON artworks
    FOR EACH STATEMENT EXECUTE FUNCTION search_generation_raise();

CREATE TRIGGER search_generation_artworks_update
    BEFORE UPDATE OF title, description, material, artist_id, archived_at, created_at ON artworks
    FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description
        OR OLD.material IS DISTINCT FROM NEW.material OR OLD.artist_id IS DISTINCT FROM NEW.artist_id
        OR (OLD.archived_at IS NULL) IS DISTINCT FROM (NEW.archived_at IS NULL)
        OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION search_generation_raise();

-- Only an artist's names are searched: a collector's new name changes nothing.
CREATE FUNCTION search_generation_raise_for_artist() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM artworks WHERE artist_id = NEW.id) THEN
        UPDATE search_generation SET generation = generation + 1;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER search_generation_members_update BEFORE UPDATE OF first_name, last_name, username ON members
    FOR EACH ROW
    WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name
        OR OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE FUNCTION search_generation_raise_for_artist();

-- The database's own search vector is read no more; its triggers no longer slow every
-- change to an artwork or a name.
DROP TRIGGER artworks_search_insert ON artworks;
DROP TRIGGER artworks_search_update ON artworks;
DROP TRIGGER members_search ON members;
DROP INDEX artworks_search_idx;
ALTER TABLE artworks DROP COLUMN search;
DROP FUNCTION artworks_search_refresh();
DROP FUNCTION members_search_refresh();
DROP FUNCTION artworks_search_vector(TEXT, TEXT, TEXT, TEXT);

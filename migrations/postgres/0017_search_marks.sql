-- Each artwork, and each artist, carries the search count (search_generation) its last
-- change to the searched text raised: a server follows the catalogue's changes by
-- reading the artworks marked after its index's count, not all of them again
-- (src/artworks/search.rs).
--
-- The marks are set on the changed row itself, by the triggers that raise the count, in
-- the same transaction. The count's row lock is held until the commit, so a transaction
-- that saw a count has also seen every row marked with it or below.
ALTER TABLE artworks ADD COLUMN search_mark BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN search_mark BIGINT NOT NULL DEFAULT 0;
CREATE INDEX artworks_search_mark_idx ON artworks (search_mark);
CREATE INDEX members_search_mark_idx ON members (search_mark);

-- An inserted artwork: the statement's trigger has raised the count; each row takes it.
CREATE FUNCTION search_mark_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT generation INTO NEW.search_mark FROM search_generation;
    RETURN NEW;
END $$;

CREATE TRIGGER search_mark_artworks_insert BEFORE INSERT ON artworks
    FOR EACH ROW EXECUTE FUNCTION search_mark_inserted();

-- A changed artwork raises the count and takes it.
CREATE OR REPLACE FUNCTION search_generation_raise() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    raised BIGINT;
BEGIN
    UPDATE search_generation SET generation = generation + 1 RETURNING generation INTO raised;
    IF TG_LEVEL = 'ROW' THEN
        NEW.search_mark := raised;
        RETURN NEW;
    END IF;
    RETURN NULL;
END $$;

-- A renamed artist raises the count and takes it, so each of their artworks is read
-- again. Every artist's rename, not only one with artworks as before: under READ
-- COMMITTED the test for artworks cannot see an artwork another transaction is adding,
-- which would then be indexed with the old name and never marked again. An artist with
-- no artworks costs a reading of no rows. Any other member with artworks (the first
-- version's data can hold them) still raises it; they cannot add artworks meanwhile.
CREATE OR REPLACE FUNCTION search_generation_raise_for_artist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    raised BIGINT;
BEGIN
    IF NEW.user_type = 'artist' OR EXISTS (SELECT 1 FROM artworks WHERE artist_id = NEW.id) THEN
        UPDATE search_generation SET generation = generation + 1 RETURNING generation INTO raised;
        NEW.search_mark := raised;
    END IF;
    RETURN NEW;
END $$;

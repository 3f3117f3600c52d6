-- Recompute an artwork's search vector only when what it holds changed: saving an
-- artwork with the same texts (the first version's client sends every field back) no
-- longer re-parses them. (The members trigger already has its WHEN.)
DROP TRIGGER artworks_search ON artworks;
CREATE TRIGGER artworks_search_insert BEFORE INSERT ON artworks
    FOR EACH ROW EXECUTE FUNCTION artworks_search_refresh();
CREATE TRIGGER artworks_search_update BEFORE UPDATE OF title, description, material, artist_id ON artworks
    FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description
          OR OLD.material IS DISTINCT FROM NEW.material OR OLD.artist_id IS DISTINCT FROM NEW.artist_id)
    EXECUTE FUNCTION artworks_search_refresh();

-- Browse at scale: an index behind every filter and ordering of the artwork list
-- (partial: only artworks on show), and full-text search through a weighted tsvector
-- column with a GIN index, kept in step by triggers inside the same transaction.
CREATE INDEX artworks_visible_created ON artworks (created_at, id) WHERE archived_at IS NULL;
CREATE INDEX artworks_visible_price ON artworks (price_pence, id) WHERE archived_at IS NULL;
CREATE INDEX artworks_visible_year ON artworks (year, id) WHERE archived_at IS NULL;
CREATE INDEX artworks_visible_title ON artworks (LOWER(title), id) WHERE archived_at IS NULL;
CREATE INDEX artworks_visible_medium ON artworks (medium, created_at) WHERE archived_at IS NULL;
CREATE INDEX artworks_visible_for_sale ON artworks (is_for_sale, created_at) WHERE archived_at IS NULL;
CREATE INDEX orders_seller_status ON orders (seller_id, status);
CREATE INDEX orders_buyer_unviewed ON orders (buyer_id) WHERE NOT viewed_by_buyer;
CREATE INDEX orders_seller_unviewed ON orders (seller_id) WHERE NOT viewed_by_seller;

CREATE FUNCTION artworks_search_vector(title TEXT, description TEXT, material TEXT, artist_name TEXT)
RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$
    SELECT setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(artist_name, '')), 'B')
        || setweight(to_tsvector('english', coalesce(material, '')), 'B')
        || setweight(to_tsvector('english', coalesce(description, '')), 'C')
$$;

ALTER TABLE artworks ADD COLUMN search tsvector;

CREATE FUNCTION artworks_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := artworks_search_vector(NEW.title, NEW.description, NEW.material,
        (SELECT first_name || ' ' || last_name || ' ' || username FROM members WHERE id = NEW.artist_id));
    RETURN NEW;
END
$$;

CREATE TRIGGER artworks_search BEFORE INSERT OR UPDATE OF title, description, material, artist_id ON artworks
    FOR EACH ROW EXECUTE FUNCTION artworks_search_refresh();

CREATE FUNCTION members_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE artworks
    SET search = artworks_search_vector(title, description, material,
        NEW.first_name || ' ' || NEW.last_name || ' ' || NEW.username)
    WHERE artist_id = NEW.id;
    RETURN NEW;
END
$$;

CREATE TRIGGER members_search AFTER UPDATE OF first_name, last_name, username ON members
    FOR EACH ROW
    WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name
          OR OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE FUNCTION members_search_refresh();

UPDATE artworks a
SET search = artworks_search_vector(a.title, a.description, a.material, m.first_name || ' ' || m.last_name || ' ' || m.username)
FROM members m WHERE m.id = a.artist_id;

CREATE INDEX artworks_search_idx ON artworks USING GIN (search);

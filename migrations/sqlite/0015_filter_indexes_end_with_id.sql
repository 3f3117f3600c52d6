-- Every catalogue order breaks ties by id (`ORDER BY a.price_pence DESC, a.id DESC`).
-- An index that ends before the id gives the rows in order of the first key only, and
-- PostgreSQL sorted each page again by id (an incremental sort): with the id at the end
-- the index gives the page's order itself. A page of 50 paintings by price took 1.25 ms
-- and now 0.25 ms, newest first 0.34 ms and now 0.13 ms (EXPLAIN ANALYZE, 10,000
-- artworks). The other orders' indexes already end with the id. SQLite's own indexes
-- end with the rowid, which is the id, so its plans do not change: the indexes are
-- rebuilt here so the two schemas stay alike.
DROP INDEX IF EXISTS artworks_visible_medium;
CREATE INDEX artworks_visible_medium ON artworks (medium, created_at, id) WHERE archived_at IS NULL;
DROP INDEX IF EXISTS artworks_visible_for_sale;
CREATE INDEX artworks_visible_for_sale ON artworks (is_for_sale, created_at, id) WHERE archived_at IS NULL;
DROP INDEX IF EXISTS artworks_visible_medium_price;
CREATE INDEX artworks_visible_medium_price ON artworks (medium, price_pence, id) WHERE archived_at IS NULL;

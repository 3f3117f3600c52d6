-- The first version's index on artworks (created_at) alone. Every read in that order
-- shows visible artworks only and breaks ties by id, which artworks_visible_created
-- (created_at, id) WHERE archived_at IS NULL serves in order, and which SQLite's planner
-- already chose. PostgreSQL's preferred the older index and sorted again (its own
-- migration 14 says by how much); it is dropped here too so the two schemas stay alike.
DROP INDEX IF EXISTS artworks_created;

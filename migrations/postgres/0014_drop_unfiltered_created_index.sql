-- The first version's index on artworks (created_at) alone. Every read in that order
-- shows visible artworks only and breaks ties by id, which artworks_visible_created
-- (created_at, id) WHERE archived_at IS NULL serves in order. Left in place, PostgreSQL's
-- planner preferred it and sorted each page by id afterwards: a chunk of the whole
-- catalogue took 0.86 ms instead of 0.55, a page of 50 0.38 ms instead of 0.24.
DROP INDEX IF EXISTS artworks_created;

-- Each artwork carries its images, as a JSON array of [id, image_url, upload key,
-- thumbnail key, width, height, position], kept by triggers in the same transaction as
-- every change to its images: a page of the catalogue is one query, not two.
ALTER TABLE artworks ADD COLUMN images TEXT NOT NULL DEFAULT '[]';

CREATE FUNCTION artwork_images_json(artwork BIGINT) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT COALESCE(json_agg(json_build_array(i.id, i.image_url, u.key, u.thumbnail_key, u.width, u.height, i.position)
                             ORDER BY i.position, i.id)::text, '[]')
    FROM artwork_images i LEFT JOIN uploads u ON u.id = i.upload_id
    WHERE i.artwork_id = artwork
$$;

-- Rewrites one artwork's images. The artwork is locked first, and the images read by the
-- next statement: two transactions changing one artwork's images at once take turns, and
-- the second reads what the first committed (an UPDATE that waited for the row would
-- recompute its value with the snapshot it started with, and write the first one's
-- change away).
CREATE FUNCTION artwork_images_rewrite(artwork BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM artworks WHERE id = artwork FOR UPDATE;
    UPDATE artworks SET images = artwork_images_json(artwork) WHERE id = artwork;
END $$;

CREATE FUNCTION artwork_images_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM artwork_images_rewrite(OLD.artwork_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.artwork_id <> OLD.artwork_id) THEN
        PERFORM artwork_images_rewrite(NEW.artwork_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER artwork_images_refresh AFTER INSERT OR UPDATE OR DELETE ON artwork_images
    FOR EACH ROW EXECUTE FUNCTION artwork_images_refresh();

-- An upload's keys and size do not change once stored, but should they, its images follow.
CREATE FUNCTION uploads_images_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM artwork_images_rewrite(artwork_id)
    FROM (SELECT DISTINCT artwork_id FROM artwork_images WHERE upload_id = NEW.id ORDER BY artwork_id) a;
    RETURN NULL;
END $$;

CREATE TRIGGER uploads_images_refresh AFTER UPDATE OF key, thumbnail_key, width, height ON uploads
    FOR EACH ROW EXECUTE FUNCTION uploads_images_refresh();

UPDATE artworks SET images = artwork_images_json(id);

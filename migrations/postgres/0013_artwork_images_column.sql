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

CREATE FUNCTION artwork_images_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE artworks SET images = artwork_images_json(OLD.artwork_id) WHERE id = OLD.artwork_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.artwork_id <> OLD.artwork_id) THEN
        UPDATE artworks SET images = artwork_images_json(NEW.artwork_id) WHERE id = NEW.artwork_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER artwork_images_refresh AFTER INSERT OR UPDATE OR DELETE ON artwork_images
    FOR EACH ROW EXECUTE FUNCTION artwork_images_refresh();

-- An upload's keys and size do not change once stored, but should they, its images follow.
CREATE FUNCTION uploads_images_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE artworks SET images = artwork_images_json(id)
    WHERE id IN (SELECT artwork_id FROM artwork_images WHERE upload_id = NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER uploads_images_refresh AFTER UPDATE OF key, thumbnail_key, width, height ON uploads
    FOR EACH ROW EXECUTE FUNCTION uploads_images_refresh();

UPDATE artworks SET images = artwork_images_json(id);

-- Each artwork carries its images, as a JSON array of [id, image_url, upload key,
-- thumbnail key, width, height, position], kept by triggers in the same transaction as
-- every change to its images: a page of the catalogue is one query, not two.
ALTER TABLE artworks ADD COLUMN images TEXT NOT NULL DEFAULT '[]';

CREATE VIEW artwork_images_json AS
SELECT i.artwork_id,
       json_group_array(json_array(i.id, i.image_url, u.key, u.thumbnail_key, u.width, u.height, i.position)) AS images
FROM artwork_images i LEFT JOIN uploads u ON u.id = i.upload_id
GROUP BY i.artwork_id;

CREATE TRIGGER artwork_images_insert AFTER INSERT ON artwork_images BEGIN
    UPDATE artworks SET images = COALESCE((SELECT images FROM artwork_images_json WHERE artwork_id = new.artwork_id), '[]')
    WHERE id = new.artwork_id;
END;

CREATE TRIGGER artwork_images_update AFTER UPDATE ON artwork_images BEGIN
    UPDATE artworks SET images = COALESCE((SELECT images FROM artwork_images_json WHERE artwork_id = old.artwork_id), '[]')
    WHERE id = old.artwork_id;
    UPDATE artworks SET images = COALESCE((SELECT images FROM artwork_images_json WHERE artwork_id = new.artwork_id), '[]')
    WHERE id = new.artwork_id AND new.artwork_id <> old.artwork_id;
END;

CREATE TRIGGER artwork_images_delete AFTER DELETE ON artwork_images BEGIN
    UPDATE artworks SET images = COALESCE((SELECT images FROM artwork_images_json WHERE artwork_id = old.artwork_id), '[]')
    WHERE id = old.artwork_id;
END;

-- An upload's keys and size do not change once stored, but should they, its images follow.
CREATE TRIGGER uploads_images_update AFTER UPDATE OF key, thumbnail_key, width, height ON uploads BEGIN
    UPDATE artworks SET images = COALESCE((SELECT images FROM artwork_images_json WHERE artwork_id = artworks.id), '[]')
    WHERE id IN (SELECT artwork_id FROM artwork_images WHERE upload_id = new.id);
END;

UPDATE artworks SET images = COALESCE((SELECT images FROM artwork_images_json WHERE artwork_id = artworks.id), '[]');

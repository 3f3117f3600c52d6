//! An artwork as its row holds it ([`ARTWORK_COLUMNS`](super::ARTWORK_COLUMNS)), borrowed from the row: written
//! as the API's JSON straight from the row's text, or made into an owned [`Artwork`].
//! A list's JSON is written from here, so a page or a whole list copies no text into a
//! `String` on its way out (10,000 artworks hold about 150,000 texts).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{ArtistSummary, Artwork, Image, ImageArtwork, Medium};
use crate::clock::Stored;
use crate::db::Columns;
use crate::money::{Measure, Money};
use crate::postcode::outward_code;
use crate::storage::{Media, MediaUrl};

/// An artwork borrowed from its row. Serialised, it writes what [`Artwork`] writes, byte
/// for byte (a test below; `tests/api/uploads.rs` compares both with the detail on both
/// engines).
#[derive(Serialize)]
pub(crate) struct ArtworkRow<'r> {
    id: i64,
    title: &'r str,
    description: &'r str,
    year: i64,
    price: Money,
    quantity_for_sale: i64,
    is_for_sale: bool,
    medium: Medium,
    material: &'r str,
    width: Measure,
    depth: Measure,
    height: Measure,
    weight: Measure,
    created_at: Stored<'r>,
    updated_at: Stored<'r>,
    artist: ArtistRow<'r>,
    artworks_images: Images<'r>,
    #[serde(skip)]
    listed: bool,
}

#[derive(Serialize)]
struct ArtistRow<'r> {
    id: i64,
    username: &'r str,
    first_name: &'r str,
    last_name: &'r str,
    bio: &'r str,
    website: &'r str,
    /// The outward code only.
    postcode: &'r str,
}

/// The images an artwork's row carries (`artworks.images`, which triggers keep), in
/// their order, with what each image's JSON repeats of its artwork.
struct Images<'r> {
    images: Vec<StoredImage<'r>>,
    media: &'r Media,
    title: &'r str,
    artist: i64,
}

/// An image as the row carries it: id, URL, upload key, thumbnail key, width, height,
/// position.
#[derive(Deserialize)]
struct StoredImage<'r>(
    i64,
    #[serde(borrow)] Option<Text<'r>>,
    #[serde(borrow)] Option<Text<'r>>,
    #[serde(borrow)] Option<Text<'r>>,
    Option<i64>,
    Option<i64>,
    i64,
);

/// A text of the images' JSON: borrowed, unless it was written with escapes.
struct Text<'r>(Cow<'r, str>);

impl<'de: 'r, 'r> Deserialize<'de> for Text<'r> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// An image's URL: an upload's, made from its key now (so it follows PUBLIC_URL and
/// MEDIA_BASE_URL), or an external one, as given.
enum Url<'a> {
    Upload(MediaUrl<'a>),
    External(&'a str),
}

impl Serialize for Url<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Upload(url) => serializer.collect_str(url),
            Self::External(url) => serializer.serialize_str(url),
        }
    }
}

impl Url<'_> {
    fn owned(&self) -> String {
        match self {
            Self::Upload(url) => url.to_string(),
            Self::External(url) => (*url).to_owned(),
        }
    }
}

#[derive(Serialize)]
struct ImageRow<'a> {
    id: i64,
    image_url: Url<'a>,
    thumbnail_url: Option<Url<'a>>,
    width: Option<i64>,
    height: Option<i64>,
    artwork: ImageArtworkRow<'a>,
}

#[derive(Serialize)]
struct ImageArtworkRow<'a> {
    title: &'a str,
    artist: i64,
}

impl Images<'_> {
    fn each(&self) -> impl Iterator<Item = ImageRow<'_>> {
        fn text<'a>(t: &'a Option<Text<'_>>) -> Option<&'a str> {
            t.as_ref().map(|t| &*t.0)
        }
        self.images.iter().map(move |image| ImageRow {
            id: image.0,
            image_url: match text(&image.2) {
                Some(key) => Url::Upload(self.media.url_of(key)),
                None => Url::External(text(&image.1).unwrap_or_default()),
            },
            thumbnail_url: text(&image.3).map(|key| Url::Upload(self.media.url_of(key))),
            width: image.4,
            height: image.5,
            artwork: ImageArtworkRow {
                title: self.title,
                artist: self.artist,
            },
        })
    }
}

impl Serialize for Images<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.each())
    }
}

/// The API's JSON for the artwork in `row` ([`ArtworkRow`]), appended to `out`.
pub(crate) fn write_artwork<R: Columns>(row: &R, media: &Media, out: &mut Vec<u8>) -> Result<(), R::Error> {
    ArtworkRow::read(row, media)?
        .write_json(out)
        .map_err(|e| row.invalid(0, format!("the artwork could not be written as JSON: {e}").into()))
}

impl<'r> ArtworkRow<'r> {
    /// The artwork in a row whose first columns are [`ARTWORK_COLUMNS`](super::ARTWORK_COLUMNS), read by either
    /// driver, with its images' URLs made by `media`.
    pub(crate) fn read<R: Columns>(row: &'r R, media: &'r Media) -> Result<Self, R::Error> {
        let medium = Medium::parse(row.str(8)?).map_err(|e| row.invalid(8, e.into()))?;
        let hundredths = |i| row.int(i).map(Measure::from_hundredths);
        let stored = |i| Stored::read(row.str(i)?).map_err(|e| row.invalid(i, e.into()));
        let mut images: Vec<StoredImage<'r>> =
            serde_json::from_str(row.str(23)?).map_err(|e| row.invalid(23, e.into()))?;
        images.sort_unstable_by_key(|image| (image.6, image.0));
        let (title, artist) = (row.str(1)?, row.int(16)?);
        Ok(Self {
            id: row.int(0)?,
            title,
            description: row.str(2)?,
            year: row.int(3)?,
            price: Money::from_hundredths(row.int(4)?),
            quantity_for_sale: row.int(5)?,
            listed: row.flag(6)?,
            is_for_sale: row.flag(7)?,
            medium,
            material: row.str(9)?,
            width: hundredths(10)?,
            depth: hundredths(11)?,
            height: hundredths(12)?,
            weight: hundredths(13)?,
            created_at: stored(14)?,
            updated_at: stored(15)?,
            artist: ArtistRow {
                id: artist,
                username: row.str(17)?,
                first_name: row.str(18)?,
                last_name: row.str(19)?,
                bio: row.str(20)?,
                website: row.str(21)?,
                postcode: outward_code(row.str(22)?),
            },
            artworks_images: Images {
                images,
                media,
                title,
                artist,
            },
        })
    }

    /// Its JSON, appended to `out`.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }

    /// The artwork, owned.
    pub(crate) fn owned(&self) -> Artwork {
        let images = self.artworks_images.each().map(|image| Image {
            id: image.id,
            image_url: image.image_url.owned(),
            thumbnail_url: image.thumbnail_url.map(|url| url.owned()),
            width: image.width,
            height: image.height,
            artwork: ImageArtwork {
                title: self.title.to_owned(),
                artist: self.artist.id,
            },
        });
        let artist = &self.artist;
        Artwork {
            id: self.id,
            title: self.title.to_owned(),
            description: self.description.to_owned(),
            year: self.year,
            price: self.price,
            quantity_for_sale: self.quantity_for_sale,
            is_for_sale: self.is_for_sale,
            medium: self.medium,
            material: self.material.to_owned(),
            width: self.width,
            depth: self.depth,
            height: self.height,
            weight: self.weight,
            created_at: self.created_at.at,
            updated_at: self.updated_at.at,
            artist: ArtistSummary {
                id: artist.id,
                username: artist.username.to_owned(),
                first_name: artist.first_name.to_owned(),
                last_name: artist.last_name.to_owned(),
                bio: artist.bio.to_owned(),
                website: artist.website.to_owned(),
                postcode: artist.postcode.to_owned(),
            },
            artworks_images: images.collect(),
            listed: self.listed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artworks::artwork_from_row;
    use crate::db::Binds;

    #[test]
    fn the_view_writes_what_the_owned_artwork_writes_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::config::Config::for_database("sqlite::memory:", "k");
        config.data_dir = dir.path().to_owned();
        config.media_base_url = Some("https://cdn.example/m/".into());
        let media = Media::from_config(&config).unwrap();
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let sql = r#"SELECT 7, 'Quote " and \ back', 'line' || char(10) || 'next é 🎨' || char(1), 2021, 125050, 2, 1, 1,
            'painting', 'oil', 1, 0, 999999, 250, '2026-11-26T10:35:28.123456Z', '2026-11-26T11:35:28+01:00',
            3, 'ada', 'Ada', 'L', 'bio', 'https://ada.example', 'SW1A 1AA',
            '[[5, null, "k/b.jpg", "k/b_t.jpg", 4, 3, 1], [4, "https://img.example/a\"b.jpg", null, null, null, null, 0],
              [6, "https://img.example/c.jpg", null, null, null, null, 1]]'"#;
        let written = crate::sqlite_reads::rows(&conn, sql, &Binds::default(), |row| {
            let mut view = Vec::new();
            write_artwork(row, &media, &mut view)?;
            let owned = serde_json::to_vec(&artwork_from_row(row, &media)?).unwrap();
            Ok((String::from_utf8(view).unwrap(), String::from_utf8(owned).unwrap()))
        });
        let (view, owned) = written.unwrap().remove(0);
        assert_eq!(view, owned);
        for part in [
            r#""title":"Quote \" and \\ back""#,
            r#""description":"line\nnext é 🎨\u0001""#,
            r#""price":1250.5"#,
            r#""width":0.01,"depth":0,"height":9999.99,"weight":2.5"#,
            r#""created_at":"2026-11-26T10:35:28.123456Z","updated_at":"2026-11-26T10:35:28.000000Z""#,
            r#""postcode":"SW1A"}"#,
            r#"[{"id":4,"image_url":"https://img.example/a\"b.jpg","thumbnail_url":null"#,
            r#"{"id":5,"image_url":"https://cdn.example/m/k/b.jpg","thumbnail_url":"https://cdn.example/m/k/b_t.jpg","width":4,"height":3"#,
            r#""artwork":{"title":"Quote \" and \\ back","artist":3}"#,
        ] {
            assert!(view.contains(part), "{part} in {view}");
        }
        assert!(
            view.find(r#""id":5,"#) < view.find(r#""id":6,"#),
            "by position, then id"
        );
    }

    #[test]
    fn the_images_texts_are_borrowed_unless_written_with_escapes() {
        let json = r#"[[1, "https://img.example/a\"b.jpg", null, null, null, null, 0], [2, null, "k/2.jpg", "k/2-t.jpg", 4, 3, 1]]"#;
        let images: Vec<StoredImage<'_>> = serde_json::from_str(json).unwrap();
        assert!(matches!(&images[0].1, Some(Text(Cow::Owned(url))) if url == "https://img.example/a\"b.jpg"));
        assert!(matches!(&images[1].2, Some(Text(Cow::Borrowed("k/2.jpg")))));
        assert!(serde_json::from_str::<Vec<StoredImage<'_>>>(r#"[[1, 2, null, null, null, null, 0]]"#).is_err());
    }
}

//! Image files: upload, validation, stripping, renditions, storage, serving, sweeping.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::helpers::{unique, TestApp, User};

pub fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), format)
        .unwrap();
    out
}

/// A 40 × 20 JPEG whose EXIF says "rotate 90° clockwise" and carries a GPS position.
fn jpeg_with_gps() -> Vec<u8> {
    let jpeg = encoded(40, 20, ImageFormat::Jpeg);
    let mut tiff: Vec<u8> = vec![0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8];
    tiff.extend([0, 2]); // IFD0: two entries
    tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation = 6
    tiff.extend([0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]); // GPS IFD at 38
    tiff.extend([0, 0, 0, 0]);
    tiff.extend([0, 2]); // GPS IFD: two entries
    tiff.extend([0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
    tiff.extend([0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 68]); // GPSLatitude at 68
    tiff.extend([0, 0, 0, 0]);
    for (n, d) in [(51u32, 1u32), (30, 1), (2600, 100)] {
        tiff.extend(n.to_be_bytes());
        tiff.extend(d.to_be_bytes());
    }
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(&payload);
    out.extend(&jpeg[2..]);
    out
}

/// A PNG of a few dozen bytes that claims to be 100,000 × 100,000 pixels.
fn decompression_bomb() -> Vec<u8> {
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend(kind);
        out.extend(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend(crc.finalize().to_be_bytes());
        out
    }
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(chunk(b"IEND", &[]));
    png
}

async fn upload(app: &TestApp, user: &User, files: Vec<(&str, Vec<u8>)>) -> (u16, Value) {
    let mut form = Form::new();
    for (name, bytes) in files {
        form = form.part(
            "file",
            Part::bytes(bytes)
                .file_name(name.to_owned())
                .mime_str("image/jpeg")
                .unwrap(),
        );
    }
    let res = app
        .client
        .post(format!("{}/api/images/upload/", app.base))
        .bearer_auth(&user.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn fetch(app: &TestApp, url: &str) -> reqwest::Response {
    app.client.get(url).send().await.unwrap()
}

fn stored_files(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir.path().join("media"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn jpeg_png_and_webp_become_stripped_renditions() {
    let app = TestApp::spawn_with(|c| {
        c.image_max_side = 32;
        c.thumbnail_side = 8;
    })
    .await;
    let artist = app.artist().await;
    let (status, body) = upload(
        &app,
        &artist,
        vec![
            ("a.png", encoded(64, 48, ImageFormat::Png)),
            ("b.webp", encoded(30, 10, ImageFormat::WebP)),
            ("c.jpg", jpeg_with_gps()),
        ],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let list = body.as_array().unwrap();
    assert_eq!(list.len(), 3);
    let png = &list[0];
    assert_eq!(
        (png["width"].as_i64(), png["height"].as_i64()),
        (Some(32), Some(24)),
        "longest side capped"
    );
    assert_eq!(png["content_type"], "image/jpeg");
    assert!(png["image_url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/media/", app.base)));
    assert!(png["thumbnail_url"].as_str().unwrap().contains("_thumb"));
    assert!(png["id"].is_i64() && png["bytes"].as_i64().unwrap() > 0);
    assert_eq!(
        (list[1]["width"].as_i64(), list[1]["height"].as_i64()),
        (Some(30), Some(10))
    );

    // The JPEG's orientation is applied and its metadata is gone.
    let jpeg = &list[2];
    assert_eq!(
        (jpeg["width"].as_i64(), jpeg["height"].as_i64()),
        (Some(16), Some(32)),
        "rotated upright, then capped"
    );
    for url in [
        jpeg["image_url"].as_str().unwrap(),
        jpeg["thumbnail_url"].as_str().unwrap(),
    ] {
        let res = fetch(&app, url).await;
        assert_eq!(res.status(), 200);
        let bytes = res.bytes().await.unwrap();
        assert!(!bytes.windows(4).any(|w| w == b"Exif"), "EXIF stripped");
        assert!(
            !bytes.windows(8).any(|w| w == [0, 0, 0, 51, 0, 0, 0, 1]),
            "no GPS position"
        );
        assert!(image::load_from_memory(&bytes).is_ok());
    }
    let thumb = image::load_from_memory(
        &fetch(&app, jpeg["thumbnail_url"].as_str().unwrap())
            .await
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!((thumb.width(), thumb.height()), (4, 8));
}

#[tokio::test]
async fn files_that_are_not_images_or_too_big_are_refused() {
    let app = TestApp::spawn_with(|c| c.max_upload_bytes = 20_000).await;
    let artist = app.artist().await;
    let (status, body) = upload(
        &app,
        &artist,
        vec![("photo.jpg", b"Dear diary, today I painted.".to_vec())],
    )
    .await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(body["status"], 415);
    let noise = {
        let img = RgbImage::from_fn(128, 128, |x, y| {
            Rgb([(x * 31 + y * 17) as u8, (x * y) as u8, (x ^ y) as u8])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    };
    assert!(noise.len() > 20_000);
    // A damaged file is refused in plain words, not the decoder's.
    let (status, body) = upload(&app, &artist, vec![("cut.png", noise[..4000].to_vec())]).await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(
        body["detail"],
        "The image could not be decoded: the file is damaged or incomplete."
    );
    assert_eq!(upload(&app, &artist, vec![("big.png", noise)]).await.0, 413);

    let started = std::time::Instant::now();
    let (status, body) = upload(&app, &artist, vec![("bomb.png", decompression_bomb())]).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "refused from the header, not by decoding"
    );

    let none = app
        .client
        .post(format!("{}/api/images/upload/", app.base))
        .bearer_auth(&artist.token)
        .multipart(Form::new().text("note", "no file"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 400);
    let not_multipart = app
        .post("/api/images/upload/", Some(&artist.token), json!({"file": "x"}))
        .await;
    assert_eq!(not_multipart.status, 415);
    assert_eq!(stored_files(&app), 0, "nothing refused was stored");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM uploads WHERE id > $1", 0).await, 0);
    let eleven = (0..11).map(|_| ("x.png", encoded(4, 4, ImageFormat::Png))).collect();
    assert_eq!(upload(&app, &artist, eleven).await.0, 400);
}

#[tokio::test]
async fn only_artists_upload_and_only_the_uploader_attaches() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let other = app.artist().await;
    let collector = app.collector().await;
    assert_eq!(
        upload(&app, &collector, vec![("a.png", encoded(8, 8, ImageFormat::Png))])
            .await
            .0,
        403
    );
    let (_, body) = upload(&app, &artist, vec![("a.png", encoded(8, 8, ImageFormat::Png))]).await;
    let url = body[0]["image_url"].as_str().unwrap().to_owned();

    let mut theirs = TestApp::artwork_body();
    theirs["artworks_images"] = json!([url]);
    app.post("/api/artworks/", Some(&other.token), theirs.clone())
        .await
        .assert_status(403);
    let other_artwork = app.artwork(&other, 1).await;
    app.post(
        &format!("/api/images/artwork/{other_artwork}/images/"),
        Some(&other.token),
        json!({"image_url": url}),
    )
    .await
    .assert_status(403);
    // Another spelling of the same upload is still that upload.
    let port = app.base.rsplit(':').next().unwrap();
    let key = url.rsplit('/').next().unwrap();
    for disguised in [
        format!("{url}?v=2"),
        format!("{url}#x"),
        url.replace("http://", "HTTP://"),
        url.replace("/media/", "//media/"),
        url.replace("/media/", "/media//"),
        url.replace("/media/", "/x/../media/"),
        format!("{}/media/%{:02X}{}", app.base, key.as_bytes()[0], &key[1..]),
        format!("http://localhost:{port}/media/{key}"),
        format!("http://[::1]:{port}/media/{key}"),
        format!("https://an-alias.example/images/{key}"),
    ] {
        let mut body = TestApp::artwork_body();
        body["artworks_images"] = json!([disguised]);
        let res = app.post("/api/artworks/", Some(&other.token), body).await;
        assert!(res.status == 403 || res.status == 400, "{disguised}: {}", res.status);
    }
    // A URL elsewhere merely shaped like a media key, naming no upload, is an image
    // elsewhere like any other.
    let mut elsewhere = TestApp::artwork_body();
    elsewhere["artworks_images"] = json!([format!("https://cdn.example/{}.jpg", "1".repeat(64))]);
    app.post("/api/artworks/", Some(&other.token), elsewhere)
        .await
        .assert_status(201);
    let fake = format!("{}/media/{}.jpg", app.base, "0".repeat(64));
    let mut unknown = TestApp::artwork_body();
    unknown["artworks_images"] = json!([fake]);
    app.post("/api/artworks/", Some(&artist.token), unknown)
        .await
        .assert_status(400);

    let created = app.post("/api/artworks/", Some(&artist.token), theirs).await;
    created.assert_status(201);
    let images = created.body["artworks_images"].as_array().unwrap();
    assert_eq!(images[0]["image_url"], url.as_str());
    assert!(images[0]["thumbnail_url"].as_str().unwrap().contains("_thumb"));
    assert_eq!(
        (images[0]["width"].as_i64(), images[0]["height"].as_i64()),
        (Some(8), Some(8))
    );
    let external = app.get(&format!("/api/artworks/{other_artwork}"), None).await;
    let first = &external.body["artworks_images"][0];
    assert!(first["thumbnail_url"].is_null() && first["width"].is_null() && first["height"].is_null());
}

#[tokio::test]
async fn one_file_is_stored_once_and_served_with_caching_headers() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let other = app.artist().await;
    let file = encoded(16, 16, ImageFormat::Png);
    let (_, first) = upload(&app, &artist, vec![("a.png", file.clone())]).await;
    let (_, again) = upload(&app, &artist, vec![("copy.png", file.clone())]).await;
    let (_, theirs) = upload(&app, &other, vec![("mine.png", file)]).await;
    assert_eq!(first[0]["image_url"], again[0]["image_url"]);
    assert_eq!(first[0]["image_url"], theirs[0]["image_url"]);
    assert_eq!(first[0]["id"], again[0]["id"], "the same upload for the same artist");
    assert_ne!(first[0]["id"], theirs[0]["id"], "each uploader has their own");
    assert_eq!(stored_files(&app), 2, "one image and one thumbnail");

    let url = first[0]["image_url"].as_str().unwrap();
    let res = fetch(&app, url).await;
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let length: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
    assert_eq!(length, res.bytes().await.unwrap().len());
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let cached = app.client.get(url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(cached.status(), 304);
    assert_eq!(cached.headers()["etag"], etag.as_str());
    assert_eq!(cached.headers()["cache-control"], "public, max-age=31536000, immutable");
    let stale = app
        .client
        .get(url)
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
    for missing in [
        format!("/media/{}.jpg", "f".repeat(64)),
        "/media/..%2Fsecret_key".to_owned(),
        "/media/x.jpg".to_owned(),
    ] {
        assert_eq!(
            fetch(&app, &format!("{}{missing}", app.base)).await.status(),
            404,
            "{missing}"
        );
    }
}

#[tokio::test]
async fn unused_uploads_are_swept() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let (_, kept) = upload(&app, &artist, vec![("k.png", encoded(8, 8, ImageFormat::Png))]).await;
    let (_, dropped) = upload(&app, &artist, vec![("d.png", encoded(9, 9, ImageFormat::Png))]).await;
    let kept_url = kept[0]["image_url"].as_str().unwrap().to_owned();
    let dropped_url = dropped[0]["image_url"].as_str().unwrap().to_owned();
    let artwork = app.artwork_with(&artist, json!({"artworks_images": [kept_url]})).await;
    assert_eq!(
        openstudio::media::sweep_uploads(&app.state).await.unwrap(),
        (0, 0),
        "nothing is a day old yet"
    );

    app.state.clock.advance(chrono::Duration::hours(25));
    assert_eq!(openstudio::media::sweep_uploads(&app.state).await.unwrap(), (1, 2));
    assert_eq!(fetch(&app, &dropped_url).await.status(), 404);
    assert_eq!(fetch(&app, &kept_url).await.status(), 200, "attached uploads stay");

    // Once no artwork uses it, it goes too.
    app.patch(
        &format!("/api/artworks/{artwork}"),
        Some(&artist.token),
        json!({"artworks_images": ["https://x.example/a.jpg"]}),
    )
    .await
    .assert_status(200);
    assert_eq!(openstudio::media::sweep_uploads(&app.state).await.unwrap(), (1, 2));
    assert_eq!(fetch(&app, &kept_url).await.status(), 404);
    assert_eq!(stored_files(&app), 0);
}

/// Runs against the S3-compatible server `.ci/run` starts (moto) when TEST_S3_BUCKET is
/// set, with the endpoint and credentials in the standard AWS variables.
#[tokio::test]
async fn uploads_live_in_an_s3_compatible_store() {
    let Ok(bucket) = std::env::var("TEST_S3_BUCKET") else {
        eprintln!("TEST_S3_BUCKET is not set: the S3 path is exercised by .ci/run");
        return;
    };
    let prefix = unique("run");
    let app = TestApp::spawn_with(|c| c.storage_url = Some(format!("s3://{bucket}/{prefix}"))).await;
    let artist = app.artist().await;
    let (status, body) = upload(&app, &artist, vec![("s3.png", encoded(12, 6, ImageFormat::Png))]).await;
    assert_eq!(status, 201, "{body}");
    let url = body[0]["image_url"].as_str().unwrap();
    let res = fetch(&app, url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        image::load_from_memory(&res.bytes().await.unwrap()).unwrap().width(),
        12
    );
    assert_eq!(stored_files(&app), 0, "nothing on local disk");
    app.state.clock.advance(chrono::Duration::hours(25));
    assert_eq!(openstudio::media::sweep_uploads(&app.state).await.unwrap(), (1, 2));
    assert_eq!(fetch(&app, url).await.status(), 404);
}

#[tokio::test]
async fn media_urls_can_point_at_a_cdn() {
    let app = TestApp::spawn_with(|c| c.media_base_url = Some("https://cdn.example/openstudio/".into())).await;
    let artist = app.artist().await;
    let (_, body) = upload(&app, &artist, vec![("a.png", encoded(8, 8, ImageFormat::Png))]).await;
    let url = body[0]["image_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("https://cdn.example/openstudio/"), "{url}");
    let id = app
        .artwork_with(&artist, json!({"artworks_images": [url.clone()]}))
        .await;
    assert_eq!(
        app.get(&format!("/api/artworks/{id}"), None).await.body["artworks_images"][0]["image_url"],
        url.as_str()
    );
}

#[tokio::test]
async fn transparent_images_are_stored_and_served_as_png() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let img = image::RgbaImage::from_fn(10, 10, |x, _| image::Rgba([200, 10, 10, (x * 25) as u8]));
    let mut png = Vec::new();
    DynamicImage::ImageRgba8(img)
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    let (status, body) = upload(&app, &artist, vec![("glass.png", png)]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body[0]["content_type"], "image/png");
    let url = body[0]["image_url"].as_str().unwrap();
    assert!(url.ends_with(".png"));
    let res = fetch(&app, url).await;
    assert_eq!(res.headers()["content-type"], "image/png");
    let decoded = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert!(decoded.color().has_alpha());
}

/// The sweep removing a file and an artist uploading the same file again never leave an
/// upload whose image is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sweeping_and_re_uploading_the_same_file_do_not_cross() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let other = app.artist().await;
    let file = encoded(12, 12, ImageFormat::Png);
    for round in 0..6 {
        let (_, first) = upload(&app, &artist, vec![("a.png", file.clone())]).await;
        let url = first[0]["image_url"].as_str().unwrap().to_owned();
        app.state.clock.advance(chrono::Duration::hours(25));
        let (swept, (status, _)) = tokio::join!(
            openstudio::media::sweep_uploads(&app.state),
            upload(&app, &other, vec![("b.png", file.clone())])
        );
        swept.unwrap();
        assert_eq!(status, 201);
        let rows = app
            .scalar("SELECT COUNT(*) FROM uploads WHERE uploader_id = $1", other.id)
            .await;
        assert_eq!(rows, 1, "round {round}");
        assert_eq!(
            fetch(&app, &url).await.status(),
            200,
            "round {round}: the re-uploaded file is still served"
        );
        // Start the next round from nothing.
        app.state.clock.advance(chrono::Duration::hours(25));
        openstudio::media::sweep_uploads(&app.state).await.unwrap();
        assert_eq!(fetch(&app, &url).await.status(), 404);
    }
}

/// An artwork is read two ways: inside the writing transaction after a change (create,
/// update), and on the hot reads' connections for every read (detail, list pages, the
/// streamed whole list). Both must give the same for the same rows: amounts in every
/// shape, stored and external images, text that needs escaping.
#[tokio::test]
async fn an_artwork_reads_the_same_after_a_change_and_on_every_read() {
    let app = TestApp::spawn_with(|c| c.catalogue_cache_ms = 0).await;
    let artist = app.artist().await;
    let (status, uploaded) = upload(&app, &artist, vec![("c.jpg", jpeg_with_gps())]).await;
    assert_eq!(status, 201, "{uploaded}");
    let stored_url = uploaded[0]["image_url"].as_str().unwrap().to_owned();
    let shapes = [
        json!({"price": 1250.5, "width": 50, "depth": 0.01, "height": 9999.99, "weight": 2.25}),
        json!({"price": 12, "width": 0.1, "depth": 40, "height": 3, "weight": 1000}),
        json!({"price": 0.07, "quantity_for_sale": 0, "is_for_sale": false,
               "title": "Quote \" backslash \\ tab \t ünïcødé 🎨 <b>&amp;</b>",
               "description": "line one\nline two"}),
    ];
    let mut written = Vec::new();
    for shape in shapes {
        let mut body = TestApp::artwork_body();
        body.as_object_mut().unwrap().extend(shape.as_object().unwrap().clone());
        body["artworks_images"] = json!([stored_url, "https://img.example/blue-1.jpg"]);
        let res = app.post("/api/artworks/", Some(&artist.token), body).await;
        res.assert_status(201);
        written.push(res.body.clone());
    }
    // An update's answer is serde's too.
    let id = written[0]["id"].as_i64().unwrap();
    let res = app
        .patch(
            &format!("/api/artworks/{id}/"),
            Some(&artist.token),
            json!({"price": 99.9}),
        )
        .await;
    res.assert_status(200);
    written[0] = res.body.clone();
    assert_eq!(written[0]["price"].to_string(), "99.9");
    assert_eq!(written[2]["price"].to_string(), "0.07");
    assert_eq!(written[1]["price"].to_string(), "12");

    for by_serde in &written {
        let id = by_serde["id"].as_i64().unwrap();
        let detail = app.get(&format!("/api/artworks/{id}/"), None).await;
        detail.assert_status(200);
        assert_eq!(detail.body, *by_serde, "detail of {id}");
        // Numbers are written alike, not only equal as values.
        for field in ["price", "width", "depth", "height", "weight"] {
            assert_eq!(detail.body[field].to_string(), by_serde[field].to_string(), "{field}");
        }
        let images = detail.body["artworks_images"].as_array().unwrap();
        assert_eq!(images[0]["image_url"], stored_url);
        assert!(images[0]["thumbnail_url"].is_string() && images[0]["width"].is_i64());
        assert!(images[1]["thumbnail_url"].is_null() && images[1]["width"].is_null());
    }
    let newest_first: Vec<_> = written.iter().rev().cloned().collect();
    let page = app
        .get(&format!("/api/artworks/?artist={}&per_page=10", artist.id), None)
        .await;
    page.assert_status(200);
    assert_eq!(page.body, json!(newest_first), "a page");
    let whole = app.get(&format!("/api/artworks/?artist={}", artist.id), None).await;
    whole.assert_status(200);
    assert_eq!(whole.body, json!(newest_first), "the streamed whole list");
}

/// Reads take each artwork's images from its row (`artworks.images`, kept by triggers):
/// after every kind of change to an artwork's images, the detail and every list show
/// what the images' own rows hold, in their order, with an upload's thumbnail and size.
#[tokio::test]
async fn every_change_to_an_artworks_images_shows_in_the_lists() {
    let app = TestApp::spawn_with(|c| c.catalogue_cache_ms = 0).await;
    let artist = app.artist().await;
    let collector = app.collector().await;
    let (_, body) = upload(&app, &artist, vec![("a.png", encoded(40, 20, ImageFormat::Png))]).await;
    let uploaded = body[0]["image_url"].as_str().unwrap().to_owned();
    let mut created = TestApp::artwork_body();
    created["artworks_images"] = json!(["https://img.example/one.jpg", uploaded]);
    let res = app.post("/api/artworks/", Some(&artist.token), created).await;
    res.assert_status(201);
    let id = res.body["id"].as_i64().unwrap();
    let gallery = collector.gallery_id.unwrap();
    app.post(
        &format!("/api/galleries/{gallery}/curate/"),
        Some(&collector.token),
        json!({"artwork": id}),
    )
    .await
    .assert_status(201);

    let in_step = |step: &'static str| {
        let app = &app;
        let collector = &collector;
        async move {
            let detail = app.get(&format!("/api/artworks/{id}/"), None).await.body["artworks_images"].clone();
            let lists = [
                app.get("/api/artworks/?per_page=5", None).await.body[0]["artworks_images"].clone(),
                app.get(&format!("/api/artists/{}/", app_artist_id(app, id).await), None)
                    .await
                    .body["artworks"][0]["artworks_images"]
                    .clone(),
                app.get(&format!("/api/galleries/{gallery}/artworks/"), Some(&collector.token))
                    .await
                    .body[0]["artwork"]["artworks_images"]
                    .clone(),
                app.get(&format!("/api/images/artwork/{id}/images/"), None)
                    .await
                    .body
                    .clone(),
            ];
            for list in lists {
                assert_eq!(list, detail, "{step}");
            }
            assert_as_stored(app, id, &detail, step).await;
            detail
        }
    };
    let images = in_step("created").await;
    assert_eq!(images.as_array().unwrap().len(), 2);
    assert_eq!(
        (images[1]["width"].as_i64(), images[1]["height"].as_i64()),
        (Some(40), Some(20))
    );
    assert!(images[1]["thumbnail_url"].is_string(), "an upload's thumbnail");

    // Added one at a time, then one removed.
    let added = app
        .post(
            &format!("/api/images/artwork/{id}/images/"),
            Some(&artist.token),
            json!({"image_url": "https://img.example/three.jpg"}),
        )
        .await;
    added.assert_status(201);
    assert_eq!(in_step("added").await.as_array().unwrap().len(), 3);
    let first = images[0]["id"].as_i64().unwrap();
    app.delete(&format!("/api/images/image/{first}/"), Some(&artist.token))
        .await
        .assert_status(204);
    let images = in_step("removed").await;
    assert_eq!(images.as_array().unwrap().len(), 2);

    // Reordered and replaced through an edit (an empty list keeps them); then all removed.
    let reordered = json!([
        images[1]["image_url"],
        images[0]["image_url"],
        "https://img.example/four.jpg"
    ]);
    app.patch(
        &format!("/api/artworks/{id}/"),
        Some(&artist.token),
        json!({"artworks_images": reordered}),
    )
    .await
    .assert_status(200);
    let images = in_step("reordered").await;
    assert_eq!(images[2]["image_url"], "https://img.example/four.jpg");
    for image in images.as_array().unwrap() {
        let image = image["id"].as_i64().unwrap();
        app.delete(&format!("/api/images/image/{image}/"), Some(&artist.token))
            .await
            .assert_status(204);
    }
    assert_eq!(in_step("emptied").await, json!([]));
}

/// An image as its rows hold it: id, URL, upload key, thumbnail key, width, height.
type Stored = (i64, String, Option<String>, Option<String>, Option<i64>, Option<i64>);

/// `shown` (an artwork's `artworks_images`) is what the images' own rows hold for
/// artwork `id`, in their order: ids, URLs (an upload's made from its keys), sizes.
async fn assert_as_stored(app: &TestApp, id: i64, shown: &Value, step: &str) {
    use sqlx::Row;
    let stored: Vec<Stored> = sqlx::query(
        "SELECT i.id, i.image_url, u.key, u.thumbnail_key, u.width, u.height FROM artwork_images i \
         LEFT JOIN uploads u ON u.id = i.upload_id WHERE i.artwork_id = $1 ORDER BY i.position, i.id",
    )
    .bind(id)
    .fetch_all(app.state.db.pool())
    .await
    .unwrap()
    .iter()
    .map(|row| {
        let size = |c: &str| row.try_get::<Option<i64>, _>(c).unwrap();
        (
            row.try_get("id").unwrap(),
            row.try_get("image_url").unwrap(),
            row.try_get("key").unwrap(),
            row.try_get("thumbnail_key").unwrap(),
            size("width"),
            size("height"),
        )
    })
    .collect();
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), stored.len(), "{step}: as many as stored");
    for (image, (id, url, key, thumbnail, width, height)) in shown.iter().zip(&stored) {
        assert_eq!(image["id"].as_i64(), Some(*id), "{step}: in their order");
        let shown_url = image["image_url"].as_str().unwrap();
        match key {
            Some(key) => assert!(shown_url.ends_with(key.as_str()), "{step}: {shown_url}"),
            None => assert_eq!(shown_url, url, "{step}"),
        }
        let shown_thumbnail = image["thumbnail_url"].as_str();
        match thumbnail {
            Some(thumbnail) => assert!(
                shown_thumbnail.is_some_and(|t| t.ends_with(thumbnail.as_str())),
                "{step}"
            ),
            None => assert_eq!(shown_thumbnail, None, "{step}"),
        }
        assert_eq!(
            (image["width"].as_i64(), image["height"].as_i64()),
            (*width, *height),
            "{step}"
        );
    }
}

/// Many changes to one artwork's images at once (removals, additions) leave its row
/// holding exactly what its images are: the triggers take the artwork in turn, and
/// each reads what the one before committed.
#[tokio::test]
async fn concurrent_changes_to_one_artworks_images_all_show() {
    let app = TestApp::spawn_with(|c| c.catalogue_cache_ms = 0).await;
    let artist = app.artist().await;
    for round in 0..3 {
        let mut body = TestApp::artwork_body();
        // Six, four removed and four added: never more than ten at once.
        body["artworks_images"] = json!((0..6)
            .map(|i| format!("https://img.example/{round}/{i}.jpg"))
            .collect::<Vec<_>>());
        let res = app.post("/api/artworks/", Some(&artist.token), body).await;
        res.assert_status(201);
        let id = res.body["id"].as_i64().unwrap();
        let images: Vec<i64> = res.body["artworks_images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|image| image["id"].as_i64().unwrap())
            .collect();
        let (app, artist) = (&app, &artist);
        let removals = images[..4].iter().map(|image| async move {
            app.delete(&format!("/api/images/image/{image}/"), Some(&artist.token))
                .await
                .status
        });
        let additions = (0..4).map(|i| async move {
            app.post(
                &format!("/api/images/artwork/{id}/images/"),
                Some(&artist.token),
                json!({"image_url": format!("https://img.example/{round}/added-{i}.jpg")}),
            )
            .await
            .status
        });
        let (removed, added) = futures::join!(
            futures::future::join_all(removals),
            futures::future::join_all(additions)
        );
        assert!(removed.iter().all(|s| *s == 204), "round {round}: {removed:?}");
        assert!(added.iter().all(|s| *s == 201), "round {round}: {added:?}");
        let detail = app.get(&format!("/api/artworks/{id}/"), None).await.body["artworks_images"].clone();
        assert_eq!(detail.as_array().unwrap().len(), 6, "round {round}: 6 - 4 + 4");
        assert_as_stored(app, id, &detail, &format!("round {round}")).await;
        let listed = app.get("/api/artworks/?per_page=1", None).await.body[0]["artworks_images"].clone();
        assert_eq!(listed, detail, "round {round}");
    }
}

/// The artist of artwork `id`.
async fn app_artist_id(app: &TestApp, id: i64) -> i64 {
    app.get(&format!("/api/artworks/{id}/"), None).await.body["artist"]["id"]
        .as_i64()
        .unwrap()
}

//! `openstudio import-django`: a first version's database, built from the schema Django
//! made (`tests/fixtures/django-schema.sql`, a copy of `../shared/django-schema.sql`) on
//! the local PostgreSQL and filled here, imported
//! into this test's database (SQLite, or PostgreSQL with TEST_DATABASE_URL), then used
//! through the API.

use std::process::{Command, Output};

use serde_json::json;
use sqlx::Connection;

use crate::helpers::{unique, TestApp, SECRET};

/// Made by Django 5.1.4: PBKDF2PasswordHasher().encode("copper-meadow-falcon-77",
/// "Xy7Qw2Lm9Rt4Vb8Nc1Dz5K", iterations=20000).
const DJANGO_HASH: &str = "pbkdf2_sha256$20000$Xy7Qw2Lm9Rt4Vb8Nc1Dz5K$v4PdI9YzBIRwauiYNt3bKVeee/ZyCdC6J4QVFnlWEhM=";
const OLD_PASSWORD: &str = "copper-meadow-falcon-77";

/// The first version's rows: members (one email twice in different letter case, an
/// invalid postcode, a createsuperuser account with an unusable password, a collector
/// without a gallery), artworks with images, galleries (an artwork in two), an order in
/// every status the first version stored, and one whose artwork is gone.
const ROWS: &str = r#"
INSERT INTO members_member (id, password, last_login, is_superuser, username, is_staff, is_active, date_joined,
    email, first_name, last_name, user_type, bio, website, address, postcode) VALUES
 (1, '{HASH}', NULL, false, 'marta', false, true, '2024-01-02 10:00:00+00', 'marta@example.com', 'Marta', 'Ink',
  'artist', 'Prints of the sea.', 'https://marta.example', '1 Harbour Row', 'EH1 1YZ'),
 (2, '{HASH}', NULL, false, 'june', false, true, '2024-01-03 10:00:00+00', 'june@example.com', 'June', 'Old',
  'collector', '', '', '2 Old Road', 'SW1A 1AA'),
 (3, '{HASH}', '2024-06-01 09:00:00+00', false, 'June2', false, true, '2024-02-03 10:00:00+00', 'JUNE@example.com',
  'June', 'Collects', 'collector', '', '', '3 New Road', 'n19gu'),
 (4, '!unusablepasswordfromcreatesuperuser', NULL, true, 'root', true, true, '2024-01-01 08:00:00+00',
  'root@example.com', '', '', '', '', '', '', ''),
 (5, '{HASH}', NULL, false, 'faraway', false, true, '2024-03-01 10:00:00+00', 'far@example.com', 'Far', 'Away',
  'collector', '', '', '5 Distant Lane', 'NOWHERE');
INSERT INTO artworks_artwork (id, title, description, year, price, quantity_for_sale, is_for_sale, medium, material,
    width, depth, height, weight, artist_id) VALUES
 (10, 'Blue Harbour', 'The harbour at dawn.', 2021, 1250.50, 2, true, 'painting', 'oil on canvas',
  50.00, 3.00, 40.00, 2.50, 1),
 (11, 'Salt Bowl', 'Stoneware.', 2022, 80.00, 0, false, 'ceramics', 'stoneware', 20.00, 20.00, 9.00, 1.20, 1);
INSERT INTO artwork_images_artworkimage (id, image_url, artwork_id) VALUES
 (100, '{IMAGES}/blue-1.jpg', 10),
 (101, '{IMAGES}/blue-2.jpg', 10),
 (102, '{IMAGES}/bowl.jpg', 11),
 (103, '{IMAGES}/bowl-2.jpg', 11);
INSERT INTO galleries_gallery (id, curator_id) VALUES (50, 2), (51, 3);
INSERT INTO galleries_galleryartwork (id, artwork_id, gallery_id) VALUES (1, 10, 50), (2, 10, 51), (3, 11, 51);
INSERT INTO orders_order (id, price, created_at, status, artwork_id, buyer_id, seller_id, viewed_by_buyer,
    viewed_by_seller) VALUES
 (200, 1262.30, now() - interval '2 days', 'pending', 10, 3, 1, true, false),
 (201, 1262.30, now() - interval '3 days', 'accepted', 10, 5, 1, false, true),
 (202, 92.10, now() - interval '4 days', 'ready to ship', 11, 3, 1, true, false),
 (203, 92.10, now() - interval '30 days', 'shipped', 11, 2, 1, true, true),
 (204, 1262.30, now() - interval '40 days', 'cancelled', 10, 3, 1, true, true),
 (205, 92.10, now() - interval '50 days', 'completed', 11, 5, 1, true, true);
-- A damaged database: an order whose artwork is gone (the foreign keys switched off).
SET session_replication_role = replica;
INSERT INTO orders_order (id, price, created_at, status, artwork_id, buyer_id, seller_id, viewed_by_buyer,
    viewed_by_seller) VALUES (206, 50.00, now() - interval '60 days', 'completed', 12, 5, 1, true, true);
SET session_replication_role = DEFAULT;
"#;

/// A first version's database, made on the local PostgreSQL; None (and a visible note)
/// when there is none to make it on.
async fn django_database(images: &str) -> Option<(String, String)> {
    let admin = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await else {
        eprintln!("skipped: no PostgreSQL at {admin} to build the first version's database on");
        return None;
    };
    let name = unique("django_");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    // A copy of ../shared/django-schema.sql, kept here so a clone alone can run this.
    let schema = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/django-schema.sql"))
        .expect("tests/fixtures/django-schema.sql");
    let mut django = sqlx::PgConnection::connect(url.as_str()).await.unwrap();
    sqlx::raw_sql(&schema)
        .execute(&mut django)
        .await
        .expect("the first version's schema");
    let mut django = sqlx::PgConnection::connect(url.as_str()).await.unwrap();
    sqlx::raw_sql(&ROWS.replace("{HASH}", DJANGO_HASH).replace("{IMAGES}", images))
        .execute(&mut django)
        .await
        .expect("the first version's rows");
    Some((url.to_string(), name))
}

async fn import(app: &TestApp, from: &str, dry_run: bool) -> Output {
    import_with(app, from, if dry_run { &["--dry-run"] } else { &[] }).await
}

async fn import_with(app: &TestApp, from: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_openstudio"));
    command
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("SECRET_KEY", SECRET)
        .env("DATA_DIR", app.data_dir.path())
        .env("PUBLIC_URL", &app.base)
        .env("RUST_LOG", "warn")
        .args(["import-django", "--from", from])
        .args(args);
    tokio::task::spawn_blocking(move || command.output().expect("run openstudio import-django"))
        .await
        .expect("join")
}

#[tokio::test]
async fn the_first_versions_data_comes_in_and_works() {
    let Some((from, name)) = django_database("https://res.cloudinary.com/demo").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let members = || app.scalar("SELECT COUNT(*) FROM members WHERE id > $1", 0);

    let dry = import(&app, &from, true).await;
    let report = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert!(report.contains("Dry run: nothing was written."), "{report}");
    assert_eq!(members().await, 0, "a dry run writes nothing");

    let done = import(&app, &from, false).await;
    let report = String::from_utf8_lossy(&done.stdout).into_owned();
    println!("{report}");
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    for line in [
        "members: 5",
        "orders: 7",
        "orders 206: its artwork 12 is not there",
        "members 2: email \"june@example.com\" differs only in letter case from member 3's",
        "members 5: postcode \"NOWHERE\" is not a UK postcode",
        "members 4: no usable password",
        "members 5: a collector without a gallery",
    ] {
        assert!(report.contains(line), "{line}\n{report}");
    }

    // The member who logged in last keeps the address, and the old password works.
    let login = |email: &'static str| {
        let app = &app;
        async move {
            app.post(
                "/api/members/login/",
                None,
                json!({"email": email, "password": OLD_PASSWORD}),
            )
            .await
        }
    };
    let june = login("june@example.com").await;
    june.assert_status(200);
    assert_eq!(june.body["gallery_id"], 51);
    let june_token = june.body["token"].as_str().unwrap().to_owned();
    let marta = login("marta@example.com").await;
    marta.assert_status(200);
    let marta_token = marta.body["token"].as_str().unwrap().to_owned();
    let me = app.get("/api/members/user/", Some(&june_token)).await;
    assert_eq!(
        (me.body["id"].as_i64(), me.body["postcode"].as_str()),
        (Some(3), Some("N1 9GU"))
    );

    // Artworks, images and galleries keep their ids and shapes.
    let artwork = app.get("/api/artworks/10/", None).await;
    artwork.assert_status(200);
    assert_eq!(artwork.body["price"].to_string(), "1250.5");
    assert_eq!(artwork.body["weight"].to_string(), "2.5");
    assert_eq!(artwork.body["artist"]["id"], 1);
    let images: Vec<i64> = artwork.body["artworks_images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(images, vec![100, 101]);
    assert_eq!(
        artwork.body["artworks_images"][0]["image_url"],
        "https://res.cloudinary.com/demo/blue-1.jpg"
    );
    let bowl = app.get("/api/artworks/11/", None).await;
    assert_eq!(bowl.body["is_for_sale"], false);
    let gallery = app.get("/api/galleries/my-gallery/", Some(&june_token)).await;
    gallery.assert_status(200);
    assert_eq!(gallery.body["id"], 51);
    let in_gallery: Vec<i64> = gallery.body["artworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(in_gallery.len(), 2, "{}", gallery.body);

    // Both parties see their orders, with the first version's prices and flags.
    let purchases = app.get("/api/orders/purchase-requests/", Some(&june_token)).await;
    let mut ids: Vec<i64> = purchases
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![200, 202, 204]);
    let sales = app.get("/api/orders/seller/", Some(&marta_token)).await;
    assert_eq!(sales.body.as_array().unwrap().len(), 7);
    let orphan = app.get("/api/orders/order-details/206", Some(&marta_token)).await;
    orphan.assert_status(200);
    assert_eq!(
        orphan.body["artwork_info"]["id"], 12,
        "the order keeps its artwork's id"
    );
    app.get("/api/artworks/12/", None).await.assert_status(404);
    let paid = app.get("/api/orders/order-details/202", Some(&marta_token)).await;
    assert_eq!(paid.body["status"], "ready to ship");
    assert_eq!(paid.body["price"].to_string(), "92.1");
    assert_eq!(
        paid.body["buyer_info"]["address"], "3 New Road",
        "paid: the seller ships there"
    );
    let unviewed = app.get("/api/orders/unviewed-orders/", Some(&marta_token)).await;
    assert_eq!(
        unviewed.body["count"], 2,
        "the unviewed flags carry over (orders 200 and 202)"
    );
    let timeline = app.get("/api/orders/204/events/", Some(&june_token)).await;
    assert!(
        timeline.body.to_string().contains("Imported from the first version"),
        "{}",
        timeline.body
    );
    // The shipped order of 30 days ago completes on the next sweep, as any would.
    assert_eq!(openstudio::orders::complete_overdue(&app.state).await.unwrap(), 1);

    // New rows follow on after the imported ids.
    let newcomer = app.collector().await;
    assert!(newcomer.id > 5, "{}", newcomer.id);
    let new_artwork = app.artwork(&app.artist().await, 1).await;
    assert!(new_artwork > 11, "{new_artwork}");

    // A second import is refused, and changes nothing.
    let again = import(&app, &from, false).await;
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(members().await, 7);
    drop_database(&name).await;
}

async fn drop_database(name: &str) {
    let admin = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    }
}

fn encoded(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

/// Serves `images` on 127.0.0.1 for the first version's image URLs; returns its base.
async fn serve_images(images: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, images).await });
    base
}

/// Imports `from` with `--copy-images` (one second per image), which must succeed;
/// returns its report.
async fn import_copying_images(app: &TestApp, from: &str) -> String {
    let out = import_with(app, from, &["--copy-images", "--image-timeout-secs", "1"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `--copy-images` against a server on 127.0.0.1 that serves a JPEG, a PNG, a file that
/// is not an image, and one that never answers in time: two are stored here through the
/// upload pipeline, two keep their URLs and are reported.
#[tokio::test]
async fn copy_images_stores_what_it_can_and_reports_the_rest() {
    use axum::routing::get;
    let jpeg = encoded(40, 30, image::ImageFormat::Jpeg);
    let png = encoded(30, 40, image::ImageFormat::Png);
    let images = axum::Router::new()
        .route("/blue-1.jpg", get(move || async move { jpeg }))
        .route("/blue-2.jpg", get(move || async move { png }))
        .route(
            "/bowl.jpg",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                "too late"
            }),
        )
        .route("/bowl-2.jpg", get(|| async { "this is not an image" }));
    let base = serve_images(images).await;
    let Some((from, name)) = django_database(&base).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let report = import_copying_images(&app, &from).await;
    assert!(report.contains("images copied into this server's store: 2"), "{report}");
    assert!(
        report.contains(&format!(
            "artwork images 102: {base}/bowl.jpg could not be copied: no answer"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("artwork images 103: {base}/bowl-2.jpg could not be copied")),
        "{report}"
    );

    let stored = app.get("/api/artworks/10/", None).await;
    for image in stored.body["artworks_images"].as_array().unwrap() {
        let url = image["image_url"].as_str().unwrap();
        assert!(url.starts_with(&format!("{}/media/", app.base)), "{url}");
        assert!(image["thumbnail_url"].is_string() && image["width"].is_i64(), "{image}");
        let file = app.client.get(url).send().await.unwrap();
        assert_eq!(file.status(), 200, "served from this server's store");
    }
    let kept = app.get("/api/artworks/11/", None).await;
    let urls: Vec<&str> = kept.body["artworks_images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["image_url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, vec![format!("{base}/bowl.jpg"), format!("{base}/bowl-2.jpg")]);
    drop_database(&name).await;
}

/// The import is one transaction: when a write fails half-way (here the last table's,
/// refused by a trigger), nothing of it is left, and the import can run again.
#[tokio::test]
async fn a_failure_half_way_imports_nothing() {
    let Some((from, name)) = django_database("https://res.cloudinary.com/demo").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let sqlite = app.state.config.database_url.starts_with("sqlite:");
    let statements: &[&str] = if sqlite {
        &["CREATE TRIGGER refuse BEFORE INSERT ON order_events BEGIN SELECT RAISE(ABORT, 'refused'); END"]
    } else {
        &[
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE INSERT ON order_events FOR EACH ROW EXECUTE FUNCTION refuse()",
        ]
    };
    for sql in statements {
        sqlx::query(sql).execute(app.state.db.pool()).await.unwrap();
    }
    let failed = import(&app, &from, false).await;
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("timeline"), "{stderr}");
    for table in ["members", "galleries", "artworks", "artwork_images", "orders"] {
        let rows = app
            .scalar(&format!("SELECT COUNT(*) FROM {table} WHERE id > $1"), 0)
            .await;
        assert_eq!(rows, 0, "{table}: nothing is left of a failed import");
    }
    let drop = if sqlite {
        "DROP TRIGGER refuse"
    } else {
        "DROP TRIGGER refuse ON order_events"
    };
    sqlx::query(drop).execute(app.state.db.pool()).await.unwrap();
    let again = import(&app, &from, false).await;
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM orders WHERE id > $1", 0).await, 7);
    drop_database(&name).await;
}

/// The server is live while `--copy-images` runs: an image its artist changes after the
/// copy read it keeps the artist's change, and the copy is reported, not attached.
#[tokio::test]
async fn an_image_changed_while_it_is_copied_keeps_the_change() {
    use axum::routing::get;
    let db: std::sync::Arc<tokio::sync::OnceCell<openstudio::db::Db>> = Default::default();
    let jpeg = encoded(40, 30, image::ImageFormat::Jpeg);
    let png = encoded(30, 40, image::ImageFormat::Png);
    let changing = db.clone();
    let images = axum::Router::new()
        .route(
            "/blue-1.jpg",
            get(move || async move {
                // The artist points the image elsewhere while its file is on its way.
                let db = changing.get().expect("the server is up before the copy starts");
                sqlx::query("UPDATE artwork_images SET image_url = 'https://elsewhere.example/new.jpg' WHERE id = 100")
                    .execute(db.pool())
                    .await
                    .unwrap();
                jpeg
            }),
        )
        .route("/blue-2.jpg", get(move || async move { png }));
    let base = serve_images(images).await;
    let Some((from, name)) = django_database(&base).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let _ = db.set(app.state.db.clone());
    let report = import_copying_images(&app, &from).await;
    assert!(report.contains("images copied into this server's store: 1"), "{report}");
    assert!(
        report.contains(&format!(
            "artwork images 100: {base}/blue-1.jpg was changed or removed on this server while it was copied"
        )),
        "{report}"
    );
    let artwork = app.get("/api/artworks/10/", None).await;
    let images = artwork.body["artworks_images"].as_array().unwrap();
    assert_eq!(images[0]["id"], 100);
    assert_eq!(
        images[0]["image_url"], "https://elsewhere.example/new.jpg",
        "the artist's change"
    );
    assert!(images[0]["thumbnail_url"].is_null(), "{}", images[0]);
    let copied = images[1]["image_url"].as_str().unwrap();
    assert!(copied.starts_with(&format!("{}/media/", app.base)), "{copied}");
    drop_database(&name).await;
}

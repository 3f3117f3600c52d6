//! Migrations carry existing data forward, on both engines.

use openstudio::db::Db;
use serde_json::json;

use crate::helpers::{TestApp, TestDatabase};

#[tokio::test]
async fn upgrading_from_the_first_schema_indexes_existing_artworks_and_their_images() {
    let database = TestDatabase::new().await;
    let db = Db::connect(&database.url, 2).await.unwrap();
    db.migrate_to(1).await.unwrap();
    let now = openstudio::clock::to_db(chrono::Utc::now());
    sqlx::query(
        "INSERT INTO members (email, email_lower, username, username_lower, first_name, last_name, user_type, address, \
         postcode, password_hash, created_at, updated_at) \
         VALUES ('old@example.com', 'old@example.com', 'old', 'old', 'Berthe', 'Morisot', 'artist', '1 Rue', 'N1 9GU', 'x', $1, $1)",
    )
    .bind(&now)
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO artworks (artist_id, title, description, year, price_pence, quantity_for_sale, listed, is_for_sale, \
         medium, material, width_hundredths, depth_hundredths, height_hundredths, weight_hundredths, created_at, updated_at) \
         VALUES (1, 'The Cradle', 'A mother watches.', 1872, 100000, 1, TRUE, TRUE, 'painting', 'oil', 100, 100, 100, 100, $1, $1)",
    )
    .bind(&now)
    .execute(db.pool())
    .await
    .unwrap();
    for (url, position) in [
        ("https://img.example/cradle-detail.jpg", 1),
        ("https://img.example/cradle.jpg", 0),
    ] {
        sqlx::query("INSERT INTO artwork_images (artwork_id, image_url, position, created_at) VALUES (1, $1, $2, $3)")
            .bind(url)
            .bind(position)
            .bind(&now)
            .execute(db.pool())
            .await
            .unwrap();
    }
    db.close().await;

    let app = TestApp::spawn_on(database, |_| {}).await;
    let found = app.get("/api/artworks/?q=cradle", None).await;
    found.assert_status(200);
    assert_eq!(found.body[0]["title"], "The Cradle");
    // Its images, which its row carries since migration 13, in their order.
    let urls: Vec<&str> = found.body[0]["artworks_images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|image| image["image_url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            "https://img.example/cradle.jpg",
            "https://img.example/cradle-detail.jpg"
        ]
    );
    assert_eq!(
        app.get("/api/artworks/?q=morisot", None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1,
        "the artist's name too"
    );
    assert!(app.state.db.is_migrated().await);
    // And the upgraded schema keeps working for new writes.
    let artist = app.artist().await;
    app.artwork_with(&artist, json!({"title": "Cradle Song"})).await;
    assert_eq!(
        app.get("/api/artworks/?q=cradle", None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

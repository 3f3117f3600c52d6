use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn artists_create_populated_artworks() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let mut body = TestApp::artwork_body();
    body["id"] = json!(999);
    body["artist"] = json!(12345);
    body["created_at"] = json!("1999-01-01T00:00:00Z");
    body["unknown"] = json!("ignored");
    let res = app.post("/api/artworks/create/", Some(&artist.token), body).await;
    res.assert_status(201);
    let a = &res.body;
    assert_ne!(a["id"], 999);
    assert_eq!(a["title"], "Blue Harbour");
    assert_eq!(a["price"].to_string(), "1250.5");
    assert_eq!(a["weight"].to_string(), "2.5");
    assert_eq!(a["width"].to_string(), "50");
    assert_eq!(a["is_for_sale"], true);
    assert_eq!(a["artist"]["id"], artist.id, "the artist comes from the token");
    assert_eq!(a["artist"]["postcode"], "SW1A", "only the outward code");
    assert!(a["artist"].get("address").is_none());
    assert!(!a["created_at"].as_str().unwrap().starts_with("1999"));
    let images = a["artworks_images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0]["image_url"], "https://img.example/blue-1.jpg");
    assert_eq!(
        images[0]["artwork"],
        json!({"title": "Blue Harbour", "artist": artist.id})
    );
    let keys: Vec<&String> = a.as_object().unwrap().keys().collect();
    for key in [
        "id",
        "title",
        "description",
        "year",
        "price",
        "quantity_for_sale",
        "is_for_sale",
        "medium",
        "material",
        "width",
        "depth",
        "height",
        "weight",
        "created_at",
        "updated_at",
        "artist",
        "artworks_images",
    ] {
        assert!(keys.contains(&&key.to_owned()), "missing {key}");
    }
    let fetched = app.get(&format!("/api/artworks/{}", a["id"]), None).await;
    fetched.assert_status(200);
    assert_eq!(&fetched.body, a);
}

#[tokio::test]
async fn collectors_and_strangers_cannot_create_artworks() {
    let app = TestApp::spawn().await;
    let collector = app.collector().await;
    app.post("/api/artworks/", Some(&collector.token), TestApp::artwork_body())
        .await
        .assert_status(403);
    app.post("/api/artworks/", None, TestApp::artwork_body())
        .await
        .assert_status(401);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM artworks WHERE id > $1", 0).await, 0);
}

#[tokio::test]
async fn artwork_fields_are_validated() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let next_year = chrono::Utc::now().format("%Y").to_string().parse::<i64>().unwrap() + 1;
    let cases = [
        ("title", json!("")),
        ("title", json!("t".repeat(101))),
        ("description", json!("d".repeat(301))),
        ("year", json!(999)),
        ("year", json!(next_year + 1)),
        ("year", json!("soon")),
        ("price", json!(0)),
        ("price", json!(-5)),
        ("price", json!(100000)),
        ("price", json!(10.001)),
        ("price", json!(true)),
        ("quantity_for_sale", json!(-1)),
        ("quantity_for_sale", json!(100001)),
        ("quantity_for_sale", json!(1.5)),
        ("medium", json!("oil")),
        ("material", json!("")),
        ("width", json!(0)),
        ("depth", json!(10000)),
        ("height", json!(1.234)),
        ("weight", json!({})),
        ("is_for_sale", json!("maybe")),
        ("artworks_images", json!(["javascript:alert(1)"])),
        ("artworks_images", json!(vec!["https://x.example/1"; 11])),
        ("artworks_images", json!("https://x.example/1")),
    ];
    for (field, value) in cases {
        let mut body = TestApp::artwork_body();
        body[field] = value.clone();
        let res = app.post("/api/artworks/", Some(&artist.token), body).await;
        res.assert_status(400);
        assert!(res.body["fields"][field].is_array(), "{field}={value}: {}", res.body);
        assert!(res
            .errors()
            .iter()
            .any(|e| e.starts_with(&format!("{}: ", openstudio::error::label(field)))));
    }
    let mut body = TestApp::artwork_body();
    body["year"] = json!(next_year);
    body["price"] = json!("99999.99");
    body["quantity_for_sale"] = json!("0");
    let res = app.post("/api/artworks/", Some(&artist.token), body).await;
    res.assert_status(201);
    assert_eq!(res.body["price"].to_string(), "99999.99");
    assert_eq!(res.body["is_for_sale"], false, "nothing to sell");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM artworks WHERE id > $1", 0).await, 1);
}

#[tokio::test]
async fn only_the_artist_edits_and_partial_updates_keep_the_rest() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let other = app.artist().await;
    let collector = app.collector().await;
    let id = app.artwork(&artist, 2).await;
    let path = format!("/api/artworks/{id}/");
    app.patch(&path, Some(&other.token), json!({"title": "Mine now"}))
        .await
        .assert_status(403);
    app.patch(&path, Some(&collector.token), json!({"title": "Mine now"}))
        .await
        .assert_status(403);
    app.patch(&path, None, json!({"title": "Mine now"}))
        .await
        .assert_status(401);
    let res = app
        .patch(
            &path,
            Some(&artist.token),
            json!({"title": "Red Harbour", "artworks_images": []}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["title"], "Red Harbour");
    assert_eq!(res.body["price"].to_string(), "1250.5");
    assert_eq!(
        res.body["artworks_images"].as_array().unwrap().len(),
        2,
        "an empty list keeps the images"
    );
    // The existing client sends the whole object back, image objects included.
    let mut whole = res.body.clone();
    whole["artworks_images"] = json!([{"id": 1, "image_url": "https://img.example/new.jpg", "artwork": {}}]);
    whole["quantity_for_sale"] = json!(0);
    let res = app.put(&path, Some(&artist.token), whole).await;
    res.assert_status(200);
    assert_eq!(
        res.body["artworks_images"][0]["image_url"],
        "https://img.example/new.jpg"
    );
    assert_eq!(res.body["artworks_images"].as_array().unwrap().len(), 1);
    assert_eq!(res.body["is_for_sale"], false);
    // Restocking brings back what the artist last set.
    let res = app
        .patch(&path, Some(&artist.token), json!({"quantity_for_sale": 3}))
        .await;
    assert_eq!(res.body["is_for_sale"], true);
    let res = app
        .patch(&path, Some(&artist.token), json!({"is_for_sale": false}))
        .await;
    assert_eq!(res.body["is_for_sale"], false);
    let res = app
        .patch(&path, Some(&artist.token), json!({"quantity_for_sale": 4}))
        .await;
    assert_eq!(res.body["is_for_sale"], false, "the artist took it off sale");
    let res = app.patch(&path, Some(&artist.token), json!({"price": 0})).await;
    res.assert_status(400);
    assert_eq!(app.get(&path, None).await.body["price"].to_string(), "1250.5");
}

#[tokio::test]
async fn missing_and_malformed_ids_are_404() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/artworks/424242/", None).await;
    res.assert_status(404);
    assert_eq!(res.body["detail"], "Artwork not found.");
    for path in [
        "/api/artworks/abc",
        "/api/artworks/-1",
        "/api/artworks/99999999999999999999999",
    ] {
        app.get(path, None).await.assert_status(404);
    }
}

#[tokio::test]
async fn deleting_an_artwork_without_orders_erases_it() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let other = app.artist().await;
    let id = app.artwork(&artist, 1).await;
    app.delete(&format!("/api/artworks/{id}"), Some(&other.token))
        .await
        .assert_status(403);
    app.delete(&format!("/api/artworks/{id}/"), Some(&artist.token))
        .await
        .assert_status(204);
    app.get(&format!("/api/artworks/{id}"), None).await.assert_status(404);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM artworks WHERE id = $1", id).await, 0);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM artwork_images WHERE artwork_id = $1", id)
            .await,
        0
    );
}

#[tokio::test]
async fn deleting_an_artwork_with_orders_archives_it_and_keeps_the_orders() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let id = app.artwork(&artist, 5).await;
    let order = app.order(&buyer, id).await;
    app.post(
        &format!("/api/galleries/{}/curate/", buyer.gallery_id.unwrap()),
        Some(&buyer.token),
        json!({"artwork": id}),
    )
    .await
    .assert_status(201);
    app.accept(&artist, order).await.assert_status(200);
    app.post("/api/orders/mark-viewed/", Some(&buyer.token), json!({}))
        .await
        .assert_status(200);

    app.delete(&format!("/api/artworks/{id}"), Some(&artist.token))
        .await
        .assert_status(204);
    app.get(&format!("/api/artworks/{id}"), None).await.assert_status(404);
    let list = app.get("/api/artworks/", None).await;
    assert!(list.body.as_array().unwrap().iter().all(|a| a["id"] != id));
    let details = app
        .get(&format!("/api/orders/order-details/{order}"), Some(&buyer.token))
        .await;
    details.assert_status(200);
    assert_eq!(details.body["status"], "cancelled");
    assert_eq!(details.body["viewed_by_buyer"], false, "the buyer is notified");
    let events = app
        .get(&format!("/api/orders/{order}/events/"), Some(&buyer.token))
        .await;
    let last = events.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["to"].as_str(), last["actor"].as_str(), last["reason"].as_str()),
        (Some("cancelled"), Some("system"), Some("artwork withdrawn"))
    );
    let gallery = app.get("/api/galleries/my-gallery/", Some(&buyer.token)).await;
    assert_eq!(gallery.body["total"], 0);
}

#[tokio::test]
async fn an_artwork_being_delivered_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let id = app.artwork(&artist, 2).await;
    let order = app.order(&buyer, id).await;
    app.accept(&artist, order).await;
    app.pay(&buyer, order).await.assert_status(200);
    app.delete(&format!("/api/artworks/{id}"), Some(&artist.token))
        .await
        .assert_status(409);
    app.get(&format!("/api/artworks/{id}"), None).await.assert_status(200);
    app.patch(&format!("/api/orders/shipped/{order}"), Some(&artist.token), json!({}))
        .await
        .assert_status(200);
    app.delete(&format!("/api/artworks/{id}"), Some(&artist.token))
        .await
        .assert_status(409);
    app.patch(&format!("/api/orders/complete/{order}"), Some(&buyer.token), json!({}))
        .await
        .assert_status(200);
    app.delete(&format!("/api/artworks/{id}"), Some(&artist.token))
        .await
        .assert_status(204);
    assert_eq!(app.order_status(&buyer, order).await, "completed");
}

#[tokio::test]
async fn the_list_is_newest_first_and_paged() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(app.artwork(&artist, 1).await);
    }
    let res = app.get("/api/artworks/?per_page=2&page=2", None).await;
    res.assert_status(200);
    assert_eq!(res.header("x-total-count"), "5");
    let got: Vec<i64> = res
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, vec![ids[2], ids[1]]);
    let link = res.header("link");
    assert!(
        link.contains("page=3&per_page=2>; rel=\"next\"") && link.contains("rel=\"prev\""),
        "{link}"
    );
    let past = app.get("/api/artworks/?page=9", None).await;
    past.assert_status(200);
    assert_eq!(past.body, json!([]));
    app.get("/api/artworks/?per_page=201", None).await.assert_status(400);
    app.get("/api/artworks/?page=zero", None).await.assert_status(400);
}

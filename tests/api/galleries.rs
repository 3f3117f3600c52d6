use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn collectors_curate_their_gallery() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let collector = app.collector().await;
    let gallery = collector.gallery_id.unwrap();
    let first = app.artwork(&artist, 1).await;
    let second = app.artwork(&artist, 1).await;
    let curate = format!("/api/galleries/{gallery}/curate/");
    let res = app
        .post(&curate, Some(&collector.token), json!({"artwork": first}))
        .await;
    res.assert_status(201);
    assert_eq!(res.body["message"], "Artwork added to the gallery!");
    let res = app
        .post(&curate, Some(&collector.token), json!({"artwork": first}))
        .await;
    res.assert_status(200);
    assert_eq!(res.body["message"], "Artwork is already in the gallery.");
    app.post(&curate, Some(&collector.token), json!({"artwork": second}))
        .await
        .assert_status(201);
    app.post(&curate, Some(&collector.token), json!({"artwork": 999999}))
        .await
        .assert_status(404);
    app.post(&curate, Some(&collector.token), json!({"artwork": "x"}))
        .await
        .assert_status(400);

    let mine = app
        .get("/api/galleries/my-gallery/?page=1&per_page=1", Some(&collector.token))
        .await;
    mine.assert_status(200);
    assert_eq!(mine.body["id"], gallery);
    assert_eq!(mine.body["curator"], collector.id);
    assert_eq!(mine.body["total"], 2);
    assert_eq!(
        (mine.body["page"].as_i64(), mine.body["per_page"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(mine.body["artworks"][0]["id"], first);
    assert_eq!(mine.body["artworks"][0]["artist"]["postcode"], "SW1A");

    let entries = app
        .get(&format!("/api/galleries/{gallery}/artworks/"), Some(&collector.token))
        .await;
    entries.assert_status(200);
    let list = entries.body.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], first, "an entry is keyed by its artwork");
    assert_eq!(list[0]["gallery"], gallery);
    assert_eq!(list[0]["artwork"]["id"], first);
    assert!(list[0]["added_at"].is_string());

    app.request(
        reqwest::Method::DELETE,
        &curate,
        Some(&collector.token),
        Some(json!({"artwork": first})),
    )
    .await
    .assert_status(204);
    app.delete(&format!("{curate}?artwork={second}"), Some(&collector.token))
        .await
        .assert_status(204);
    app.delete(&format!("{curate}?artwork={second}"), Some(&collector.token))
        .await
        .assert_status(404);
    assert_eq!(
        app.get("/api/galleries/my-gallery", Some(&collector.token)).await.body["total"],
        0
    );
}

#[tokio::test]
async fn other_members_galleries_are_not_found() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let owner = app.collector().await;
    let other = app.collector().await;
    let artwork = app.artwork(&artist, 1).await;
    let gallery = owner.gallery_id.unwrap();
    app.get(&format!("/api/galleries/{gallery}/artworks"), Some(&other.token))
        .await
        .assert_status(404);
    app.post(
        &format!("/api/galleries/{gallery}/curate"),
        Some(&other.token),
        json!({"artwork": artwork}),
    )
    .await
    .assert_status(404);
    app.post(
        &format!("/api/galleries/{gallery}/curate"),
        Some(&artist.token),
        json!({"artwork": artwork}),
    )
    .await
    .assert_status(404);
    app.delete(
        &format!("/api/galleries/{gallery}/curate?artwork={artwork}"),
        Some(&other.token),
    )
    .await
    .assert_status(404);
    app.get("/api/galleries/abc/artworks", Some(&owner.token))
        .await
        .assert_status(404);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM gallery_artworks WHERE gallery_id = $1", gallery)
            .await,
        0
    );
}

#[tokio::test]
async fn only_staff_list_all_galleries() {
    let app = TestApp::spawn().await;
    let collector = app.collector().await;
    let staff = app.staff().await;
    app.get("/api/galleries/all/", Some(&collector.token))
        .await
        .assert_status(403);
    app.get("/api/galleries/all/", None).await.assert_status(401);
    let res = app.get("/api/galleries/all/", Some(&staff.token)).await;
    res.assert_status(200);
    assert_eq!(res.header("x-total-count"), "2");
    assert_eq!(res.body.as_array().unwrap().len(), 2);
    assert_eq!(res.body[0]["curator"], collector.id);
}

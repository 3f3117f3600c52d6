use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn only_the_artworks_artist_adds_and_removes_images() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let intruder = app.artist().await;
    let collector = app.collector().await;
    let id = app.artwork(&artist, 1).await;
    let path = format!("/api/images/artwork/{id}/images/");
    let url = json!({"image_url": "https://img.example/3.jpg"});
    app.post(&path, Some(&intruder.token), url.clone())
        .await
        .assert_status(403);
    app.post(&path, Some(&collector.token), url.clone())
        .await
        .assert_status(403);
    app.post(&path, None, url.clone()).await.assert_status(401);
    app.post(&path, Some(&artist.token), json!({})).await.assert_status(400);
    app.post("/api/images/artwork/9999/images/", Some(&artist.token), url.clone())
        .await
        .assert_status(404);
    let added = app.post(&path, Some(&artist.token), url).await;
    added.assert_status(201);
    assert_eq!(added.body["image_url"], "https://img.example/3.jpg");
    assert_eq!(added.body["artwork"]["artist"], artist.id);
    let list = app.get(&path, None).await;
    list.assert_status(200);
    let urls: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["image_url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        vec![
            "https://img.example/blue-1.jpg",
            "https://img.example/blue-2.jpg",
            "https://img.example/3.jpg"
        ]
    );

    let image = added.body["id"].as_i64().unwrap();
    app.delete(&format!("/api/images/image/{image}/"), Some(&intruder.token))
        .await
        .assert_status(403);
    app.delete(&format!("/api/images/image/{image}"), None)
        .await
        .assert_status(401);
    app.delete(&format!("/api/images/image/{image}/"), Some(&artist.token))
        .await
        .assert_status(204);
    app.delete(&format!("/api/images/image/{image}/"), Some(&artist.token))
        .await
        .assert_status(404);
    assert_eq!(app.get(&path, None).await.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_artwork_has_at_most_ten_images() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let id = app.artwork(&artist, 1).await;
    let path = format!("/api/images/artwork/{id}/images");
    for n in 0..8 {
        app.post(
            &path,
            Some(&artist.token),
            json!({"image_url": format!("https://img.example/{n}.jpg")}),
        )
        .await
        .assert_status(201);
    }
    let res = app
        .post(
            &path,
            Some(&artist.token),
            json!({"image_url": "https://img.example/11.jpg"}),
        )
        .await;
    res.assert_status(400);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM artwork_images WHERE artwork_id = $1", id)
            .await,
        10
    );
}

//! The framework's own rejections are problem JSON too, and no input makes a 500.

use serde_json::json;

use crate::helpers::TestApp;

async fn raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    token: Option<&str>,
) -> (u16, String, serde_json::Value) {
    let mut req = app.client.request(method, format!("{}{}", app.base, path)).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.json().await.unwrap_or(serde_json::Value::Null);
    (status, ct, body)
}

#[tokio::test]
async fn rejections_are_problem_json() {
    let app = TestApp::spawn().await;
    type Case = (reqwest::Method, &'static str, Option<&'static str>, Vec<u8>, u16);
    let cases: Vec<Case> = vec![
        (
            reqwest::Method::POST,
            "/api/members/login/",
            Some("application/json"),
            b"{not json".to_vec(),
            400,
        ),
        (
            reqwest::Method::POST,
            "/api/members/login/",
            Some("application/json"),
            b"[1, 2]".to_vec(),
            400,
        ),
        (
            reqwest::Method::POST,
            "/api/members/login/",
            Some("text/plain"),
            b"{}".to_vec(),
            415,
        ),
        (reqwest::Method::POST, "/api/members/login/", None, b"{}".to_vec(), 415),
        (
            reqwest::Method::POST,
            "/api/members/register/",
            Some("application/json"),
            vec![b' '; 1024 * 1024 + 10],
            413,
        ),
        (reqwest::Method::GET, "/api/no/such/route", None, vec![], 404),
        // Outside the API's paths a 404 is a page (see web.rs).
        (reqwest::Method::GET, "/media/nothing", None, vec![], 404),
        (reqwest::Method::DELETE, "/api/members/register/", None, vec![], 405),
        (
            reqwest::Method::PUT,
            "/api/orders/create",
            Some("application/json"),
            b"{}".to_vec(),
            405,
        ),
    ];
    for (method, path, ct, body, expected) in cases {
        let (status, content_type, body) = raw(&app, method.clone(), path, ct, body, None).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
        assert_eq!(content_type, "application/problem+json", "{method} {path}");
        assert_eq!(body["status"], expected);
        assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn routes_answer_with_and_without_a_trailing_slash() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let artwork = app.artwork(&artist, 3).await;
    for path in ["/api", "/api/", "/api/artworks", "/api/artworks/"] {
        app.get(path, None).await.assert_status(200);
    }
    let root = app.get("/api/", None).await;
    assert_eq!(root.body["message"], "Welcome to OpenStudio API");
    assert!(root.body["endpoints"].is_object());
    let order = app
        .post("/api/orders/create", Some(&buyer.token), json!({"artwork_id": artwork}))
        .await;
    order.assert_status(201);
    let id = order.body["id"].as_i64().unwrap();
    // No redirect anywhere: the client's POST and PATCH bodies must arrive.
    app.accept(&artist, id).await.assert_status(200);
    app.patch(&format!("/api/orders/cancel/{id}/"), Some(&buyer.token), json!({}))
        .await
        .assert_status(200);
    let res = app
        .client
        .get(format!("{}/api/artworks/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Junk of every shape at every write route: always a 4xx, never a 500.
#[tokio::test]
async fn junk_input_never_makes_a_500() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let collector = app.collector().await;
    let artwork = app.artwork(&artist, 2).await;
    let order = app.order(&collector, artwork).await;
    let gallery = collector.gallery_id.unwrap();
    let junk = [
        json!(null),
        json!({"a": 1}),
        json!({"email": [], "password": {}, "artwork": -1, "artwork_id": 1e300, "action": 5}),
        json!({"title": "\u{0000}", "price": "1e99999", "year": 1e20, "quantity_for_sale": "NaN", "medium": null}),
        json!({"artworks_images": [[]], "width": "-0", "weight": 99999999999999999999u128.to_string(), "image_url": "http://"}),
        json!({"order_ids": [1, -2, "x"], "user_type": "", "final_price": "∞", "artwork_id": "9223372036854775808"}),
    ];
    let routes = [
        (reqwest::Method::POST, "/api/members/register/".to_owned()),
        (reqwest::Method::POST, "/api/members/login/".to_owned()),
        (reqwest::Method::PATCH, "/api/members/user/".to_owned()),
        (reqwest::Method::POST, "/api/members/password/".to_owned()),
        (reqwest::Method::POST, "/api/artworks/".to_owned()),
        (reqwest::Method::PATCH, format!("/api/artworks/{artwork}/")),
        (reqwest::Method::POST, format!("/api/images/artwork/{artwork}/images/")),
        (reqwest::Method::POST, format!("/api/galleries/{gallery}/curate/")),
        (reqwest::Method::DELETE, format!("/api/galleries/{gallery}/curate/")),
        (reqwest::Method::POST, "/api/orders/create/".to_owned()),
        (reqwest::Method::PATCH, format!("/api/orders/review/{order}")),
        (reqwest::Method::POST, "/api/orders/mark-viewed/".to_owned()),
    ];
    for (method, path) in &routes {
        for token in [&artist.token, &collector.token] {
            for body in &junk {
                let res = app.request(method.clone(), path, Some(token), Some(body.clone())).await;
                assert!(res.status < 500, "{method} {path} {body}: {} {}", res.status, res.body);
            }
        }
    }
    for query in [
        "?page=-1",
        "?per_page=1e9",
        "?page=99999999999999999999",
        "?artwork=%FF",
        "?page=%00",
    ] {
        let res = app.get(&format!("/api/artworks/{query}"), None).await;
        assert!(res.status < 500, "{query}");
    }
}

/// Values that pass a careless check but break a database or an arithmetic operation.
#[tokio::test]
async fn hostile_values_in_otherwise_valid_bodies_are_400() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let artwork = app.artwork(&artist, 1).await;
    for (field, value) in [
        ("title", json!("Blue\u{0000}Harbour")),
        ("material", json!("\u{0000}")),
        ("price", json!("79228162514264337593543950335")),
        ("width", json!(-79228162514264337593543950335.0)),
        ("artworks_images", json!(["https://img.example/a\u{0000}.jpg"])),
    ] {
        let mut body = TestApp::artwork_body();
        body[field] = value;
        let res = app.post("/api/artworks/", Some(&artist.token), body).await;
        res.assert_status(400);
        assert!(res.body["fields"][field].is_array(), "{field}: {}", res.body);
    }
    for (field, value) in [
        ("address", json!("1\u{0000}Road")),
        ("website", json!("https://a.example/\u{0000}")),
    ] {
        let mut body = TestApp::registration("collector", "N1 9GU");
        body[field] = value;
        app.post("/api/members/register/", None, body).await.assert_status(400);
    }
    app.post(
        "/api/members/login/",
        None,
        json!({"email": "a\u{0000}@example.com", "password": "x"}),
    )
    .await
    .assert_status(400);
    for price in [
        "-79228162514264337593543950335",
        "79228162514264337593543950335",
        "1e28",
    ] {
        let res = app
            .post(
                "/api/orders/create/",
                Some(&buyer.token),
                json!({"artwork_id": artwork, "final_price": price}),
            )
            .await;
        res.assert_status(409);
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM orders WHERE buyer_id = $1", buyer.id)
            .await,
        0
    );
}

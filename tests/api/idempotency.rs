//! Safe retries with Idempotency-Key on order creation and payment.

use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp, User};

async fn keyed(app: &TestApp, method: reqwest::Method, path: &str, user: &User, key: &str, body: Value) -> Resp {
    let res = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&user.token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(Value::Null);
    Resp { status, headers, body }
}

#[tokio::test]
async fn a_retried_order_is_created_once() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let artwork = app.artwork(&artist, 5).await;
    let body = json!({"artwork_id": artwork});
    let first = keyed(
        &app,
        reqwest::Method::POST,
        "/api/orders/create/",
        &buyer,
        "order-1",
        body.clone(),
    )
    .await;
    first.assert_status(201);
    assert!(first.header("idempotent-replayed").is_empty());
    let again = keyed(
        &app,
        reqwest::Method::POST,
        "/api/orders/create",
        &buyer,
        "order-1",
        body.clone(),
    )
    .await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed"), "true");
    assert_eq!(again.body, first.body, "the first response, replayed");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM orders WHERE buyer_id = $1", buyer.id)
            .await,
        1
    );

    let other = app.artwork(&artist, 5).await;
    let reused = keyed(
        &app,
        reqwest::Method::POST,
        "/api/orders/create/",
        &buyer,
        "order-1",
        json!({"artwork_id": other}),
    )
    .await;
    reused.assert_status(422);
    assert_eq!(reused.header("content-type"), "application/problem+json");
    // Keys belong to their member.
    let someone = app.collector().await;
    keyed(
        &app,
        reqwest::Method::POST,
        "/api/orders/create/",
        &someone,
        "order-1",
        body.clone(),
    )
    .await
    .assert_status(201);
    // After 24 hours the key is forgotten and the request acts again (here: refused,
    // because the buyer already has an open order for the artwork).
    app.state.clock.advance(chrono::Duration::hours(25));
    let later = keyed(
        &app,
        reqwest::Method::POST,
        "/api/orders/create/",
        &buyer,
        "order-1",
        body,
    )
    .await;
    later.assert_status(409);
    assert!(later.header("idempotent-replayed").is_empty());
    let bad = keyed(
        &app,
        reqwest::Method::POST,
        "/api/orders/create/",
        &buyer,
        &"k".repeat(300),
        json!({}),
    )
    .await;
    bad.assert_status(400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicates_act_once() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let artwork = app.artwork(&artist, 3).await;
    let body = json!({"artwork_id": artwork});
    let results = join_all((0..10).map(|_| {
        keyed(
            &app,
            reqwest::Method::POST,
            "/api/orders/create/",
            &buyer,
            "same",
            body.clone(),
        )
    }))
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert_eq!(
        results
            .iter()
            .filter(|r| r.status == 201 && r.header("idempotent-replayed").is_empty())
            .count(),
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM orders WHERE buyer_id = $1", buyer.id)
            .await,
        1
    );
    let order = app.scalar("SELECT id FROM orders WHERE buyer_id = $1", buyer.id).await;

    app.accept(&artist, order).await;
    let path = format!("/api/orders/payment/{order}");
    let payments =
        join_all((0..10).map(|_| keyed(&app, reqwest::Method::PATCH, &path, &buyer, "pay-once", json!({})))).await;
    let statuses: Vec<u16> = payments.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    assert_eq!(
        app.scalar("SELECT quantity_for_sale FROM artworks WHERE id = $1", artwork)
            .await,
        2,
        "paid once"
    );
    let replay = keyed(&app, reqwest::Method::PATCH, &path, &buyer, "pay-once", json!({})).await;
    replay.assert_status(200);
    assert_eq!(replay.header("idempotent-replayed"), "true");
    assert_eq!(replay.body["new_quantity"], 2);
}

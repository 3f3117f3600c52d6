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

/// Inserts a claim as a crashed server would leave it: no answer, lease `lease_secs`
/// from now (negative: already over).
async fn leftover_claim(app: &TestApp, member: i64, key: &str, body: &Value, path: &str, lease_secs: i64) {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(format!("PATCH {}\n", path.trim_end_matches('/')).as_bytes());
    hasher.update(serde_json::to_vec(body).unwrap());
    let hash: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let now = chrono::Utc::now();
    sqlx::query(
        "INSERT INTO idempotency_keys (member_id, key, request_hash, created_at, locked_until) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(member)
    .bind(key)
    .bind(hash)
    .bind(openstudio::clock::to_db(now))
    .bind(openstudio::clock::to_db(now + chrono::Duration::seconds(lease_secs)))
    .execute(app.state.db.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn a_claim_left_by_a_crash_frees_its_key_when_its_lease_ends() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let artwork = app.artwork(&artist, 1).await;
    let order = app.order(&buyer, artwork).await;
    app.accept(&artist, order).await.assert_status(200);
    let path = format!("/api/orders/payment/{order}");
    let body = json!({});
    // Still within its lease: the first request may yet be running.
    leftover_claim(&app, buyer.id, "live", &body, &path, 60).await;
    keyed(&app, reqwest::Method::PATCH, &path, &buyer, "live", body.clone())
        .await
        .assert_status(409);
    // The lease is over: nothing was done, so the retry acts.
    leftover_claim(&app, buyer.id, "crashed", &body, &path, -1).await;
    let paid = keyed(&app, reqwest::Method::PATCH, &path, &buyer, "crashed", body.clone()).await;
    paid.assert_status(200);
    assert_eq!(app.order_status(&buyer, order).await, "ready to ship");
}

#[tokio::test]
async fn an_unanswered_claim_is_released_and_replays_do_not_wait_for_the_writer() {
    let app = TestApp::spawn().await;
    let buyer = app.collector().await;
    // A request that ends without an answer (its future dropped) releases its key.
    let claim = openstudio::idempotency::Claim::take(&app.state, buyer.id, "dropped", "hash")
        .await
        .unwrap()
        .expect("a free key");
    drop(claim);
    let mut released = false;
    for _ in 0..50 {
        if app
            .scalar("SELECT COUNT(*) FROM idempotency_keys WHERE member_id = $1", buyer.id)
            .await
            == 0
        {
            released = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(released, "the key was released");

    // A stored answer replays while another transaction holds the writer.
    let artist = app.artist().await;
    let artwork = app.artwork(&artist, 1).await;
    let body = json!({"artwork_id": artwork});
    keyed(
        &app,
        reqwest::Method::POST,
        "/api/orders/create/",
        &buyer,
        "k",
        body.clone(),
    )
    .await
    .assert_status(201);
    let writer = app.state.db.begin().await.unwrap();
    let replay = keyed(&app, reqwest::Method::POST, "/api/orders/create/", &buyer, "k", body).await;
    replay.assert_status(201);
    assert_eq!(replay.header("idempotent-replayed"), "true");
    drop(writer);
}

#[tokio::test]
async fn a_request_stopped_by_its_deadline_does_not_hold_its_key() {
    let app = TestApp::spawn_with(|config| config.request_timeout_ms = 1000).await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let artwork = app.artwork(&artist, 1).await;
    let order = app.order(&buyer, artwork).await;
    app.accept(&artist, order).await.assert_status(200);
    let path = format!("/api/orders/payment/{order}");
    // The artwork's row (PostgreSQL) or the whole writer (SQLite) is held past the
    // payment's deadline.
    let mut blocker = app.state.db.begin().await.unwrap();
    sqlx::query("UPDATE artworks SET title = title WHERE id = $1")
        .bind(artwork)
        .execute(&mut *blocker)
        .await
        .unwrap();
    keyed(&app, reqwest::Method::PATCH, &path, &buyer, "pay-1", json!({}))
        .await
        .assert_status(503);
    blocker.rollback().await.unwrap();
    // The retry acts: the stopped request did nothing and holds nothing.
    let mut answer = 0;
    for _ in 0..50 {
        answer = keyed(&app, reqwest::Method::PATCH, &path, &buyer, "pay-1", json!({}))
            .await
            .status;
        if answer != 409 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(answer, 200);
    assert_eq!(app.order_status(&buyer, order).await, "ready to ship");
}

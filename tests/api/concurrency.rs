//! Many requests at once: guards live in the database, on both engines.

use futures::future::join_all;
use serde_json::json;

use crate::helpers::{TestApp, User};

async fn collectors(app: &TestApp, n: usize) -> Vec<User> {
    join_all((0..n).map(|_| app.collector())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_payments_for_three_in_stock() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let artwork = app.artwork(&artist, 3).await;
    let buyers = collectors(&app, 50).await;
    let mut orders = Vec::new();
    for buyer in &buyers {
        let order = app.order(buyer, artwork).await;
        app.accept(&artist, order).await.assert_status(200);
        orders.push(order);
    }
    let paths: Vec<String> = orders
        .iter()
        .map(|order| format!("/api/orders/payment/{order}"))
        .collect();
    let results = join_all(
        buyers
            .iter()
            .zip(&paths)
            .map(|(buyer, path)| app.patch(path, Some(&buyer.token), json!({}))),
    )
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 47, "{statuses:?}");
    assert_eq!(
        app.scalar("SELECT quantity_for_sale FROM artworks WHERE id = $1", artwork)
            .await,
        0
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM orders WHERE artwork_id = $1 AND status = 'ready to ship'",
            artwork
        )
        .await,
        3
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM orders WHERE artwork_id = $1 AND status = 'cancelled'",
            artwork
        )
        .await,
        47
    );
    let mut quantities: Vec<i64> = results
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.body["new_quantity"].as_i64().unwrap())
        .collect();
    quantities.sort();
    assert_eq!(quantities, vec![0, 1, 2]);
    let artwork_now = app.get(&format!("/api/artworks/{artwork}"), None).await;
    assert_eq!(artwork_now.body["is_for_sale"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_gallery_adds_make_one_row() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let collector = app.collector().await;
    let artwork = app.artwork(&artist, 1).await;
    let path = format!("/api/galleries/{}/curate/", collector.gallery_id.unwrap());
    let results = join_all((0..20).map(|_| app.post(&path, Some(&collector.token), json!({"artwork": artwork})))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 19, "{statuses:?}");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM gallery_artworks WHERE artwork_id = $1", artwork)
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_registrations_of_one_email() {
    let app = TestApp::spawn().await;
    let base = TestApp::registration("collector", "N1 9GU");
    let email = base["email"].as_str().unwrap().to_owned();
    let bodies: Vec<_> = (0..10)
        .map(|i| {
            let mut body = TestApp::registration("collector", "N1 9GU");
            let cased: String = email
                .chars()
                .enumerate()
                .map(|(n, c)| if (n + i) % 2 == 0 { c.to_ascii_uppercase() } else { c })
                .collect();
            body["email"] = json!(cased);
            body
        })
        .collect();
    let results = join_all(
        bodies
            .into_iter()
            .map(|body| app.post("/api/members/register/", None, body)),
    )
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 9, "{statuses:?}");
    for res in results.iter().filter(|r| r.status == 400) {
        assert!(
            res.errors()
                .contains(&"Email: a member with this email already exists.".to_owned()),
            "{}",
            res.body
        );
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM members WHERE id > $1", 0).await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM galleries WHERE id > $1", 0).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transitions_of_one_order_pass_the_guard_once() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let order = app.order(&buyer, app.artwork(&artist, 1).await).await;
    let review = format!("/api/orders/review/{order}");
    let payment = format!("/api/orders/payment/{order}");
    let accept = (0..10).map(|_| app.patch(&review, Some(&artist.token), json!({"action": "accept"})));
    let results = join_all(accept).await;
    assert_eq!(results.iter().filter(|r| r.status == 200).count(), 1);
    assert!(results.iter().all(|r| r.status == 200 || r.status == 409));
    // Cancelling and paying at once: exactly one wins.
    let pay = app.patch(&payment, Some(&buyer.token), json!({}));
    let cancel = app.patch(&review, Some(&artist.token), json!({"action": "cancel"}));
    let (pay, cancel) = tokio::join!(pay, cancel);
    assert_eq!(
        [pay.status, cancel.status].iter().filter(|s| **s == 200).count(),
        1,
        "{} {}",
        pay.body,
        cancel.body
    );
    let events = app
        .scalar("SELECT COUNT(*) FROM order_events WHERE order_id = $1", order)
        .await;
    assert_eq!(events, 3, "created, accepted, and one of paid/cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_orders_from_one_buyer_make_one_open_order() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let artwork = app.artwork(&artist, 5).await;
    let results = join_all((0..10).map(|_| {
        app.post(
            "/api/orders/create/",
            Some(&buyer.token),
            json!({"artwork_id": artwork}),
        )
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.status == 201).count(), 1);
    assert!(results.iter().all(|r| r.status == 201 || r.status == 409));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM orders WHERE artwork_id = $1", artwork)
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sweeps_at_once_complete_each_order_once() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyers = collectors(&app, 3).await;
    let artwork = app.artwork(&artist, 5).await;
    for buyer in &buyers {
        let order = app.order(buyer, artwork).await;
        app.accept(&artist, order).await;
        app.pay(buyer, order).await.assert_status(200);
        app.patch(&format!("/api/orders/shipped/{order}"), Some(&artist.token), json!({}))
            .await
            .assert_status(200);
    }
    app.state.clock.advance(chrono::Duration::days(20));
    let (a, b) = tokio::join!(
        openstudio::orders::complete_overdue(&app.state),
        openstudio::orders::complete_overdue(&app.state)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 3);
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM order_events WHERE to_status = 'completed' AND order_id > $1",
            0
        )
        .await,
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn editing_an_artwork_during_payments_cannot_restore_sold_stock() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let artwork = app.artwork(&artist, 3).await;
    let buyers = collectors(&app, 20).await;
    let mut paths = Vec::new();
    for buyer in &buyers {
        let order = app.order(buyer, artwork).await;
        app.accept(&artist, order).await.assert_status(200);
        paths.push(format!("/api/orders/payment/{order}"));
    }
    let artwork_path = format!("/api/artworks/{artwork}");
    let payments = join_all(
        buyers
            .iter()
            .zip(&paths)
            .map(|(buyer, path)| app.patch(path, Some(&buyer.token), json!({}))),
    );
    // Edits keep coming for as long as the payments run, from several clients.
    let edit_loop = |client: usize| {
        let (app, artist, artwork_path) = (&app, &artist, &artwork_path);
        async move {
            let mut statuses = Vec::new();
            for n in 0..15 {
                let body = json!({"title": format!("Edit {client}.{n}")});
                statuses.push(app.patch(artwork_path, Some(&artist.token), body).await.status);
            }
            statuses
        }
    };
    let edits = join_all((0..4).map(edit_loop));
    let (payments, edits) = tokio::join!(payments, edits);
    let edits: Vec<u16> = edits.into_iter().flatten().collect();
    assert!(edits.iter().all(|status| *status == 200), "edits succeed: {edits:?}");
    assert_eq!(payments.iter().filter(|r| r.status == 200).count(), 3);
    assert_eq!(
        app.scalar("SELECT quantity_for_sale FROM artworks WHERE id = $1", artwork)
            .await,
        0
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM orders WHERE artwork_id = $1 AND status = 'ready to ship'",
            artwork
        )
        .await,
        3
    );
    let now = app.get(&artwork_path, None).await;
    assert_eq!(now.body["is_for_sale"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_username() {
    let app = TestApp::spawn().await;
    let username = crate::helpers::unique("Same");
    let bodies: Vec<_> = (0..8)
        .map(|i| {
            let mut body = TestApp::registration("artist", "N1 9GU");
            body["username"] = json!(if i % 2 == 0 {
                username.to_uppercase()
            } else {
                username.to_lowercase()
            });
            body
        })
        .collect();
    let results = join_all(
        bodies
            .into_iter()
            .map(|body| app.post("/api/members/register/", None, body)),
    )
    .await;
    assert_eq!(results.iter().filter(|r| r.status == 201).count(), 1);
    for res in results.iter().filter(|r| r.status != 201) {
        res.assert_status(400);
        assert!(
            res.errors()
                .iter()
                .any(|e| e == "Username: a member with this username already exists."),
            "{}",
            res.body
        );
    }
}

/// Artists listing, editing and withdrawing works and renaming themselves all at once,
/// while others buy: every change raises the search's count (one row) and the
/// catalogue's counts, and none of the writers waits on another in a cycle. Afterwards
/// the search and the counts agree with the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catalogue_writes_at_once_all_succeed_and_the_search_follows() {
    let app = TestApp::spawn().await;
    let artists = join_all((0..4).map(|_| app.artist())).await;
    let buyers = collectors(&app, 4).await;
    let mut first = Vec::new();
    for artist in &artists {
        first.push(
            app.artwork_with(artist, json!({"title": "Estuary", "medium": "sculpture"}))
                .await,
        );
    }
    let writes = artists.iter().enumerate().flat_map(|(i, artist)| {
        let app = &app;
        let (buyer, listed) = (&buyers[i], first[i]);
        (0..4).map(move |n| async move {
            let status = match n {
                0 => {
                    app.post("/api/artworks/", Some(&artist.token), {
                        let mut body = TestApp::artwork_body();
                        body["title"] = json!("Estuary at noon");
                        body
                    })
                    .await
                    .status
                }
                1 => {
                    app.patch(
                        &format!("/api/artworks/{listed}"),
                        Some(&artist.token),
                        json!({"title": "Delta", "medium": "painting"}),
                    )
                    .await
                    .status
                }
                2 => {
                    app.patch(
                        "/api/members/user/",
                        Some(&artist.token),
                        json!({"last_name": format!("Constable{i}")}),
                    )
                    .await
                    .status
                }
                _ => {
                    app.post("/api/orders/create/", Some(&buyer.token), json!({"artwork_id": listed}))
                        .await
                        .status
                }
            };
            assert!((200..300).contains(&status), "write {n} of artist {i}: {status}");
        })
    });
    join_all(writes).await;
    assert_eq!(app.ids("/api/artworks/?q=estuary").await.len(), 4, "the new ones");
    assert_eq!(app.ids("/api/artworks/?q=delta").await.len(), 4, "the edited ones");
    for i in 0..4 {
        assert_eq!(app.ids(&format!("/api/artworks/?q=constable{i}")).await.len(), 2);
    }
    let whole = app.ids("/api/artworks/").await.len();
    let counted = app.get("/api/artworks/?per_page=1", None).await;
    assert_eq!(counted.header("x-total-count"), whole.to_string());
}

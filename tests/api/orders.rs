use serde_json::{json, Value};

use crate::helpers::{TestApp, User};

async fn review(app: &TestApp, seller: &User, order: i64, action: &str) -> crate::helpers::Resp {
    app.patch(
        &format!("/api/orders/review/{order}"),
        Some(&seller.token),
        json!({"action": action}),
    )
    .await
}

async fn act(app: &TestApp, user: &User, route: &str, order: i64) -> crate::helpers::Resp {
    app.patch(&format!("/api/orders/{route}/{order}"), Some(&user.token), json!({}))
        .await
}

#[tokio::test]
async fn a_purchase_from_request_to_completion() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let artwork = app.artwork(&artist, 2).await;

    // The server computes the price: £1,250.50 + shipping from London (1) to Edinburgh (4).
    let created = app
        .post(
            "/api/orders/create/",
            Some(&buyer.token),
            json!({"artwork_id": artwork, "price": 1}),
        )
        .await;
    created.assert_status(201);
    let order = created.body["id"].as_i64().unwrap();
    assert_eq!(created.body["price"].to_string(), "1288.61");
    assert_eq!(created.body["status"], "pending");
    assert_eq!(
        (
            created.body["viewed_by_buyer"].as_bool(),
            created.body["viewed_by_seller"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(
        created.body["buyer_info"]["address"], "12 Gallery Road",
        "the buyer sees their own address"
    );
    assert_eq!(created.body["buyer_info"]["postcode"], "EH1 1YZ");
    assert_eq!(created.body["seller_info"]["postcode"], "SW1A");
    assert_eq!(
        created.body["artwork_info"],
        json!({"id": artwork, "title": "Blue Harbour", "width": 50, "depth": 40, "height": 3, "weight": 2.5})
    );

    let unviewed = app.get("/api/orders/unviewed-orders/", Some(&artist.token)).await;
    assert_eq!(unviewed.body, json!({"has_unviewed_orders": true, "count": 1}));
    let seller_view = app
        .get(&format!("/api/orders/order-details/{order}"), Some(&artist.token))
        .await;
    seller_view.assert_status(200);
    assert_eq!(
        seller_view.body["buyer_info"]["address"], "",
        "no address before payment"
    );
    assert_eq!(seller_view.body["buyer_info"]["postcode"], "EH1");

    let marked = app
        .post(
            "/api/orders/mark-viewed/",
            Some(&artist.token),
            json!({"user_type": "artist"}),
        )
        .await;
    assert_eq!(
        marked.body,
        json!({"message": "Marked 1 orders as viewed", "updated": 1})
    );
    assert_eq!(
        app.get("/api/orders/unviewed-orders/", Some(&artist.token)).await.body["has_unviewed_orders"],
        false
    );

    let accepted = review(&app, &artist, order, "accept").await;
    accepted.assert_status(200);
    assert_eq!(
        accepted.body,
        json!({"message": "Order accepted", "status": "accepted"})
    );
    assert_eq!(
        app.get("/api/orders/unviewed-orders/", Some(&buyer.token)).await.body["count"],
        1,
        "the buyer is notified"
    );

    let paid = app
        .patch(
            &format!("/api/orders/payment/{order}/"),
            Some(&buyer.token),
            json!({"card_number": "4242424242424242", "cvc": "123"}),
        )
        .await;
    paid.assert_status(200);
    assert_eq!(
        paid.body,
        json!({"message": "Payment successful, order is ready to ship.", "new_quantity": 1, "is_for_sale": true})
    );
    let seller_view = app
        .get(&format!("/api/orders/order-details/{order}/"), Some(&artist.token))
        .await;
    assert_eq!(seller_view.body["status"], "ready to ship");
    assert_eq!(seller_view.body["viewed_by_seller"], false);
    assert_eq!(
        seller_view.body["buyer_info"]["address"], "12 Gallery Road",
        "the seller needs it to ship"
    );
    assert_eq!(seller_view.body["buyer_info"]["postcode"], "EH1 1YZ");

    let shipped = act(&app, &artist, "shipped", order).await;
    shipped.assert_status(200);
    assert_eq!(shipped.body, json!({"message": "Order status updated to shipped."}));
    let completed = act(&app, &buyer, "complete", order).await;
    completed.assert_status(200);
    assert_eq!(completed.body["status"], "completed");

    let events = app
        .get(&format!("/api/orders/{order}/events"), Some(&artist.token))
        .await;
    events.assert_status(200);
    let steps: Vec<(Value, Value, Value)> = events
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].clone(), e["to"].clone(), e["actor"].clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (Value::Null, json!("pending"), json!("buyer")),
            (json!("pending"), json!("accepted"), json!("seller")),
            (json!("accepted"), json!("ready to ship"), json!("buyer")),
            (json!("ready to ship"), json!("shipped"), json!("seller")),
            (json!("shipped"), json!("completed"), json!("buyer")),
        ]
    );
    let purchases = app.get("/api/orders/purchase-requests/", Some(&buyer.token)).await;
    assert_eq!(purchases.body.as_array().unwrap().len(), 1);
    let sales = app.get("/api/orders/seller/", Some(&artist.token)).await;
    assert_eq!(sales.body[0]["id"], order);
    assert_eq!(app.get("/api/orders/seller/", Some(&buyer.token)).await.body, json!([]));
}

#[tokio::test]
async fn order_creation_rules() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let artwork = app.artwork(&artist, 1).await;
    let create = |body: Value, user: &User| {
        let token = user.token.clone();
        let app = &app;
        async move { app.post("/api/orders/create", Some(&token), body).await }
    };
    create(json!({"artwork_id": artwork}), &artist).await.assert_status(403);
    let other_artist = app.artist().await;
    create(json!({"artwork_id": artwork}), &other_artist)
        .await
        .assert_status(403);
    create(json!({"artwork_id": 999999}), &buyer).await.assert_status(404);
    create(json!({}), &buyer).await.assert_status(400);
    create(json!({"artwork_id": "seven"}), &buyer).await.assert_status(400);
    let wrong = create(json!({"artwork_id": artwork, "final_price": 1250.5}), &buyer).await;
    wrong.assert_status(409);
    assert_eq!(wrong.body["quoted_price"].to_string(), "1288.61");
    let close = create(json!({"artwork_id": artwork, "final_price": "1288.60"}), &buyer).await;
    close.assert_status(201);
    let again = create(json!({"artwork_id": artwork}), &buyer).await;
    again.assert_status(409);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM orders WHERE buyer_id = $1", buyer.id)
            .await,
        1
    );

    let off_sale = app.artwork(&artist, 3).await;
    app.patch(
        &format!("/api/artworks/{off_sale}"),
        Some(&artist.token),
        json!({"is_for_sale": false}),
    )
    .await;
    create(json!({"artwork_id": off_sale}), &buyer).await.assert_status(409);
    let sold_out = app.artwork(&artist, 0).await;
    create(json!({"artwork_id": sold_out}), &buyer).await.assert_status(409);
    // A cancelled order does not block a new one.
    let order = close.body["id"].as_i64().unwrap();
    act(&app, &buyer, "cancel", order).await.assert_status(200);
    create(json!({"artwork_id": artwork}), &buyer).await.assert_status(201);
}

#[tokio::test]
async fn strangers_get_404_and_staff_see_everything() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let stranger = app.collector().await;
    let staff = app.staff().await;
    let order = app.order(&buyer, app.artwork(&artist, 1).await).await;
    for path in [
        format!("/api/orders/order-details/{order}"),
        format!("/api/orders/{order}/events"),
    ] {
        app.get(&path, Some(&stranger.token)).await.assert_status(404);
        app.get(&path, None).await.assert_status(401);
    }
    app.get("/api/orders/order-details/abc", Some(&buyer.token))
        .await
        .assert_status(404);
    app.get("/api/orders/order-details/77777", Some(&buyer.token))
        .await
        .assert_status(404);
    app.get("/api/orders/all/", Some(&buyer.token)).await.assert_status(403);
    let all = app.get("/api/orders/all/", Some(&staff.token)).await;
    all.assert_status(200);
    assert_eq!(all.body[0]["id"], order);
    assert_eq!(all.header("x-total-count"), "1");
}

#[tokio::test]
async fn review_needs_a_known_action() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let order = app.order(&buyer, app.artwork(&artist, 1).await).await;
    review(&app, &artist, order, "ship").await.assert_status(400);
    app.patch(&format!("/api/orders/review/{order}"), Some(&artist.token), json!({}))
        .await
        .assert_status(400);
    let cancelled = review(&app, &artist, order, "cancel").await;
    assert_eq!(
        cancelled.body,
        json!({"message": "Order cancelled", "status": "cancelled"})
    );
    let details = app
        .get(&format!("/api/orders/order-details/{order}"), Some(&buyer.token))
        .await;
    assert_eq!(details.body["viewed_by_buyer"], false);
}

const STATES: [&str; 6] = [
    "pending",
    "accepted",
    "ready to ship",
    "shipped",
    "completed",
    "cancelled",
];

/// A new order brought to `state` through the API.
async fn order_in(app: &TestApp, artist: &User, buyer: &User, state: &str) -> i64 {
    let order = app.order(buyer, app.artwork(artist, 5).await).await;
    let steps: &[(&str, bool)] = match state {
        "pending" => &[],
        "accepted" => &[("accept", true)],
        "ready to ship" => &[("accept", true), ("payment", false)],
        "shipped" => &[("accept", true), ("payment", false), ("shipped", true)],
        "completed" => &[
            ("accept", true),
            ("payment", false),
            ("shipped", true),
            ("complete", false),
        ],
        "cancelled" => &[("cancel", false)],
        _ => unreachable!(),
    };
    for (step, by_seller) in steps {
        let res = match *step {
            "accept" => review(app, artist, order, "accept").await,
            route => act(app, if *by_seller { artist } else { buyer }, route, order).await,
        };
        res.assert_status(200);
    }
    assert_eq!(app.order_status(buyer, order).await, state);
    order
}

/// Every state × every action × buyer, seller and stranger, over HTTP.
#[tokio::test]
async fn the_full_transition_matrix() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let stranger = app.collector().await;
    // (name, route party is the seller, states it succeeds from, the state it leads to)
    let actions: [(&str, bool, &[&str], &str); 6] = [
        ("review accept", true, &["pending"], "accepted"),
        ("review cancel", true, &["pending", "accepted"], "cancelled"),
        ("cancel", false, &["pending", "accepted"], "cancelled"),
        ("payment", false, &["accepted"], "ready to ship"),
        ("shipped", true, &["ready to ship"], "shipped"),
        ("complete", false, &["shipped"], "completed"),
    ];
    for state in STATES {
        for (name, by_seller, from, to) in actions {
            let order = order_in(&app, &artist, &buyer, state).await;
            let call = |user: &User| {
                let token = user.token.clone();
                let app = &app;
                async move {
                    match name.strip_prefix("review ") {
                        Some(action) => {
                            app.patch(
                                &format!("/api/orders/review/{order}"),
                                Some(&token),
                                json!({"action": action}),
                            )
                            .await
                        }
                        None => {
                            app.patch(&format!("/api/orders/{name}/{order}"), Some(&token), json!({}))
                                .await
                        }
                    }
                }
            };
            let (party, other) = if by_seller {
                (&artist, &buyer)
            } else {
                (&buyer, &artist)
            };
            let events = app
                .scalar("SELECT COUNT(*) FROM order_events WHERE order_id = $1", order)
                .await;
            assert_eq!(call(&stranger).await.status, 404, "{state} / {name} / stranger");
            assert_eq!(call(other).await.status, 403, "{state} / {name} / other party");
            assert_eq!(app.order_status(&buyer, order).await, state, "refusals change nothing");
            let res = call(party).await;
            if from.contains(&state) {
                assert_eq!(res.status, 200, "{state} / {name}: {}", res.body);
                assert_eq!(app.order_status(&buyer, order).await, to);
            } else {
                assert_eq!(res.status, 409, "{state} / {name}: {}", res.body);
                assert_eq!(res.header("content-type"), "application/problem+json");
                assert_eq!(
                    app.order_status(&buyer, order).await,
                    state,
                    "{state} / {name} changed the order"
                );
                let after = app
                    .scalar("SELECT COUNT(*) FROM order_events WHERE order_id = $1", order)
                    .await;
                assert_eq!(after, events, "{state} / {name}: a refusal records nothing");
            }
        }
    }
}

#[tokio::test]
async fn selling_the_last_unit_cancels_the_other_open_orders() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let winner = app.collector().await;
    let pending = app.collector().await;
    let accepted = app.collector().await;
    let artwork = app.artwork(&artist, 1).await;
    let win = app.order(&winner, artwork).await;
    let lose_pending = app.order(&pending, artwork).await;
    let lose_accepted = app.order(&accepted, artwork).await;
    review(&app, &artist, win, "accept").await.assert_status(200);
    review(&app, &artist, lose_accepted, "accept").await.assert_status(200);
    app.post("/api/orders/mark-viewed/", Some(&accepted.token), json!({}))
        .await;
    let paid = act(&app, &winner, "payment", win).await;
    paid.assert_status(200);
    assert_eq!(
        (paid.body["new_quantity"].as_i64(), paid.body["is_for_sale"].as_bool()),
        (Some(0), Some(false))
    );
    for (user, order) in [(&pending, lose_pending), (&accepted, lose_accepted)] {
        let details = app
            .get(&format!("/api/orders/order-details/{order}"), Some(&user.token))
            .await;
        assert_eq!(details.body["status"], "cancelled");
        assert_eq!(details.body["viewed_by_buyer"], false);
        let events = app.get(&format!("/api/orders/{order}/events"), Some(&user.token)).await;
        assert_eq!(events.body.as_array().unwrap().last().unwrap()["reason"], "sold out");
    }
    let artwork_now = app.get(&format!("/api/artworks/{artwork}"), None).await;
    assert_eq!(
        (
            artwork_now.body["quantity_for_sale"].as_i64(),
            artwork_now.body["is_for_sale"].as_bool()
        ),
        (Some(0), Some(false))
    );
}

#[tokio::test]
async fn paying_for_a_sold_out_artwork_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let artwork = app.artwork(&artist, 1).await;
    let order = app.order(&buyer, artwork).await;
    review(&app, &artist, order, "accept").await;
    app.patch(
        &format!("/api/artworks/{artwork}"),
        Some(&artist.token),
        json!({"quantity_for_sale": 0}),
    )
    .await
    .assert_status(200);
    act(&app, &buyer, "payment", order).await.assert_status(409);
    assert_eq!(app.order_status(&buyer, order).await, "accepted");
    assert_eq!(
        app.scalar("SELECT quantity_for_sale FROM artworks WHERE id = $1", artwork)
            .await,
        0
    );
}

#[tokio::test]
async fn shipped_orders_complete_automatically() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let order = order_in(&app, &artist, &buyer, "shipped").await;
    let early = openstudio::orders::complete_overdue(&app.state).await.unwrap();
    assert_eq!(early, 0);
    app.state.clock.advance(chrono::Duration::days(13));
    assert_eq!(openstudio::orders::complete_overdue(&app.state).await.unwrap(), 0);
    app.state
        .clock
        .advance(chrono::Duration::days(1) + chrono::Duration::seconds(5));
    assert_eq!(openstudio::orders::complete_overdue(&app.state).await.unwrap(), 1);
    let details = app
        .get(&format!("/api/orders/order-details/{order}"), Some(&artist.token))
        .await;
    assert_eq!(details.body["status"], "completed");
    assert_eq!(details.body["viewed_by_seller"], false, "the seller is notified");
    let events = app
        .get(&format!("/api/orders/{order}/events"), Some(&buyer.token))
        .await;
    let last = events.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["actor"].as_str(),
            last["reason"].as_str(),
            last["actor_id"].is_null()
        ),
        (Some("system"), Some("auto-completed"), true)
    );
    assert_eq!(
        openstudio::orders::complete_overdue(&app.state).await.unwrap(),
        0,
        "exactly once"
    );
}

#[tokio::test]
async fn the_background_sweep_completes_orders() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let order = order_in(&app, &artist, &buyer, "shipped").await;
    app.state.clock.advance(chrono::Duration::days(15));
    let sweep = tokio::spawn(openstudio::app::run_sweeps(
        app.state.clone(),
        std::time::Duration::from_millis(20),
    ));
    let mut status = String::new();
    for _ in 0..100 {
        status = app.order_status(&buyer, order).await;
        if status == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    sweep.abort();
    assert_eq!(status, "completed");
}

#[tokio::test]
async fn mark_viewed_touches_only_the_callers_orders() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let other_artist = app.artist().await;
    let buyer = app.collector().await;
    let mine = app.order(&buyer, app.artwork(&artist, 1).await).await;
    let theirs = app.order(&buyer, app.artwork(&other_artist, 1).await).await;
    let res = app
        .post(
            "/api/orders/mark-viewed/",
            Some(&artist.token),
            json!({"order_ids": [mine, theirs]}),
        )
        .await;
    assert_eq!(res.body["updated"], 1);
    let res = app
        .post(
            "/api/orders/mark-viewed/",
            Some(&artist.token),
            json!({"user_type": "collector"}),
        )
        .await;
    assert_eq!(res.body["updated"], 0, "an artist has no purchases to mark");
    assert_eq!(
        app.get("/api/orders/unviewed-orders/", Some(&other_artist.token))
            .await
            .body["count"],
        1
    );
    app.post(
        "/api/orders/mark-viewed/",
        Some(&artist.token),
        json!({"user_type": "staff"}),
    )
    .await
    .assert_status(400);
    app.post(
        "/api/orders/mark-viewed/",
        Some(&artist.token),
        json!({"order_ids": "all"}),
    )
    .await
    .assert_status(400);
}

#[tokio::test]
async fn the_timeline_records_each_partys_cancellation() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let by_buyer = order_in(&app, &artist, &buyer, "accepted").await;
    act(&app, &buyer, "cancel", by_buyer).await.assert_status(200);
    let by_seller = order_in(&app, &artist, &buyer, "pending").await;
    review(&app, &artist, by_seller, "cancel").await.assert_status(200);
    for (order, from, actor, actor_id) in [
        (by_buyer, "accepted", "buyer", buyer.id),
        (by_seller, "pending", "seller", artist.id),
    ] {
        let events = app
            .get(&format!("/api/orders/{order}/events/"), Some(&artist.token))
            .await;
        events.assert_status(200);
        let list = events.body.as_array().unwrap();
        let last = list.last().unwrap();
        assert_eq!(
            (
                last["from"].as_str(),
                last["to"].as_str(),
                last["actor"].as_str(),
                last["actor_id"].as_i64()
            ),
            (Some(from), Some("cancelled"), Some(actor), Some(actor_id))
        );
        assert!(last["reason"].is_null() && last["at"].is_string() && last["id"].is_i64());
        assert_eq!(list[0]["from"], Value::Null);
        let ids: Vec<i64> = list.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
    }
}

/// Every transition notifies the other party, and the seller sees the buyer's address
/// exactly while it is needed.
#[tokio::test]
async fn each_step_notifies_the_other_party() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let seen = |user: &User| {
        let token = user.token.clone();
        let app = &app;
        async move {
            app.post("/api/orders/mark-viewed/", Some(&token), json!({}))
                .await
                .assert_status(200);
        }
    };
    let flags = |order: i64| {
        let token = buyer.token.clone();
        let app = &app;
        async move {
            let res = app
                .get(&format!("/api/orders/order-details/{order}"), Some(&token))
                .await;
            (
                res.body["viewed_by_buyer"].as_bool().unwrap(),
                res.body["viewed_by_seller"].as_bool().unwrap(),
            )
        }
    };
    let seller_view = |order: i64| {
        let token = artist.token.clone();
        let app = &app;
        async move {
            app.get(&format!("/api/orders/order-details/{order}"), Some(&token))
                .await
                .body
        }
    };

    let order = app.order(&buyer, app.artwork(&artist, 2).await).await;
    assert_eq!(flags(order).await, (true, false));
    seen(&artist).await;
    review(&app, &artist, order, "accept").await.assert_status(200);
    assert_eq!(flags(order).await, (false, true), "accept notifies the buyer");
    let view = seller_view(order).await;
    assert_eq!(
        (
            view["buyer_info"]["address"].as_str(),
            view["buyer_info"]["postcode"].as_str()
        ),
        (Some(""), Some("EH1"))
    );
    assert!(view["seller_info"].get("address").is_none());
    seen(&buyer).await;
    act(&app, &buyer, "payment", order).await.assert_status(200);
    assert_eq!(flags(order).await, (true, false), "payment notifies the seller");
    seen(&artist).await;
    act(&app, &artist, "shipped", order).await.assert_status(200);
    assert_eq!(flags(order).await, (false, true), "shipping notifies the buyer");
    assert_eq!(seller_view(order).await["buyer_info"]["address"], "12 Gallery Road");
    seen(&buyer).await;
    act(&app, &buyer, "complete", order).await.assert_status(200);
    assert_eq!(flags(order).await, (true, false), "completion notifies the seller");
    assert_eq!(seller_view(order).await["buyer_info"]["postcode"], "EH1 1YZ");

    let other = app.order(&buyer, app.artwork(&artist, 1).await).await;
    seen(&artist).await;
    act(&app, &buyer, "cancel", other).await.assert_status(200);
    assert_eq!(
        flags(other).await,
        (true, false),
        "the buyer's cancellation notifies the seller"
    );
}

#[tokio::test]
async fn auto_completion_follows_the_configured_days() {
    let app = TestApp::spawn_with(|config| config.auto_complete_days = 3).await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let order = order_in(&app, &artist, &buyer, "shipped").await;
    app.state.clock.advance(chrono::Duration::days(2));
    assert_eq!(openstudio::orders::complete_overdue(&app.state).await.unwrap(), 0);
    app.state
        .clock
        .advance(chrono::Duration::days(1) + chrono::Duration::seconds(5));
    assert_eq!(openstudio::orders::complete_overdue(&app.state).await.unwrap(), 1);
    assert_eq!(app.order_status(&buyer, order).await, "completed");
}

/// The seller ships to the address the buyer had when paying, not wherever they live
/// now, and sees it only until 30 days after the order is closed.
#[tokio::test]
async fn the_seller_sees_the_address_copied_at_payment_for_30_days_after_closing() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let artwork = app.artwork(&artist, 1).await;
    let order = app.order(&buyer, artwork).await;
    app.accept(&artist, order).await.assert_status(200);
    app.pay(&buyer, order).await.assert_status(200);
    app.patch(
        "/api/members/user/",
        Some(&buyer.token),
        json!({"address": "1 New Street", "postcode": "M1 1AE"}),
    )
    .await
    .assert_status(200);
    let seen_by = |user: &crate::helpers::User| {
        let (app, token) = (&app, user.token.clone());
        async move {
            let res = app
                .get(&format!("/api/orders/order-details/{order}"), Some(&token))
                .await;
            res.assert_status(200);
            (
                res.body["buyer_info"]["address"].as_str().unwrap().to_owned(),
                res.body["buyer_info"]["postcode"].as_str().unwrap().to_owned(),
            )
        }
    };
    let shipped_to = ("12 Gallery Road".to_owned(), "EH1 1YZ".to_owned());
    assert_eq!(seen_by(&artist).await, shipped_to, "the copy, not the new address");
    assert_eq!(seen_by(&buyer).await, shipped_to, "the buyer sees where it ships");
    app.patch(&format!("/api/orders/shipped/{order}"), Some(&artist.token), json!({}))
        .await
        .assert_status(200);
    app.patch(&format!("/api/orders/complete/{order}"), Some(&buyer.token), json!({}))
        .await
        .assert_status(200);
    app.state.clock.advance(chrono::Duration::days(29));
    assert_eq!(seen_by(&artist).await, shipped_to, "kept for 30 days after completion");
    app.state.clock.advance(chrono::Duration::days(2));
    assert_eq!(seen_by(&artist).await, (String::new(), "EH1".to_owned()), "then gone");
    let sales = app.get("/api/orders/seller/", Some(&artist.token)).await;
    assert_eq!(sales.body[0]["buyer_info"]["address"], "", "in lists too");
}

/// Each order list item, written by the database, reads exactly as the order's own page
/// (written by serde from the typed order) for the same viewer: for buyer, seller and
/// staff, in every state, a page and the streamed whole list, and across the 30 days a
/// closed order's address stays visible to its seller.
#[tokio::test]
async fn order_lists_read_as_each_order_does() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let staff = app.staff().await;
    for state in STATES {
        order_in(&app, &artist, &buyer, state).await;
    }
    // Staff see each order as its buyer does (and have no order page of their own).
    let agree_as = |user: &User, list: &'static str, party: &User| {
        let (app, token, party) = (&app, user.token.clone(), party.token.clone());
        async move {
            for path in [format!("{list}?per_page=50"), list.to_owned()] {
                let res = app.get(&path, Some(&token)).await;
                res.assert_status(200);
                let items = res.body.as_array().unwrap().clone();
                assert_eq!(items.len(), STATES.len(), "{path}");
                for item in items {
                    let id = item["id"].as_i64().unwrap();
                    let page = app.get(&format!("/api/orders/order-details/{id}"), Some(&party)).await;
                    page.assert_status(200);
                    assert_eq!(item, page.body, "{path}: order {id}");
                    assert_eq!(item["price"].to_string(), page.body["price"].to_string());
                }
            }
        }
    };
    let agree = |user: &User, list: &'static str| agree_as(user, list, user);
    agree(&buyer, "/api/orders/purchase-requests/").await;
    agree(&artist, "/api/orders/seller/").await;
    agree_as(&staff, "/api/orders/all/", &buyer).await;
    // The completed order's address: shown to the seller for 30 days after closing.
    app.state.clock.advance(chrono::Duration::days(29));
    agree(&artist, "/api/orders/seller/").await;
    let shown = app.get("/api/orders/seller/", Some(&artist.token)).await;
    let paid = |body: &Value| {
        body.as_array()
            .unwrap()
            .iter()
            .filter(|o| !o["buyer_info"]["address"].as_str().unwrap().is_empty())
            .count()
    };
    assert_eq!(paid(&shown.body), 3, "ready to ship, shipped and completed");
    app.state.clock.advance(chrono::Duration::days(2));
    agree(&artist, "/api/orders/seller/").await;
    let hidden = app.get("/api/orders/seller/", Some(&artist.token)).await;
    assert_eq!(paid(&hidden.body), 2, "the completed one's address is gone");
}

/// Every field of an order in the lists, paged and whole, for each party: the names,
/// usernames, bio and addresses each in their place (PostgreSQL reads the rows by
/// position; SQLite writes the JSON in SQL).
#[tokio::test]
async fn order_lists_show_each_field_in_its_place() {
    let app = TestApp::spawn().await;
    let mut seller = TestApp::registration("artist", "SW1A 1AA");
    seller["first_name"] = json!("Gwen");
    seller["last_name"] = json!("John");
    seller["bio"] = json!("Interiors, quietly.");
    let seller_name = seller["username"].as_str().unwrap().to_owned();
    let artist = app.register(seller).await;
    let mut buyer = TestApp::registration("collector", "EH1 1YZ");
    buyer["first_name"] = json!("Peggy");
    buyer["last_name"] = json!("Guggenheim");
    buyer["address"] = json!("1 Canal Walk");
    let buyer_name = buyer["username"].as_str().unwrap().to_owned();
    let collector = app.register(buyer).await;
    let artwork = app.artwork(&artist, 1).await;
    let created = app
        .post(
            "/api/orders/create/",
            Some(&collector.token),
            json!({"artwork_id": artwork, "price": 1}),
        )
        .await;
    created.assert_status(201);
    let order = created.body["id"].as_i64().unwrap();
    let expected = |address: &str, postcode: &str| {
        json!({
            "id": order,
            "price": created.body["price"],
            "status": "pending",
            "created_at": created.body["created_at"],
            "updated_at": created.body["updated_at"],
            "viewed_by_buyer": true,
            "viewed_by_seller": false,
            "buyer_info": {
                "id": collector.id, "username": buyer_name, "first_name": "Peggy",
                "last_name": "Guggenheim", "address": address, "postcode": postcode,
            },
            "seller_info": {
                "id": artist.id, "username": seller_name, "first_name": "Gwen",
                "last_name": "John", "bio": "Interiors, quietly.", "postcode": "SW1A",
            },
            "artwork_info": {"id": artwork, "title": "Blue Harbour", "width": 50, "depth": 40, "height": 3, "weight": 2.5},
        })
    };
    let lists = |buyer_sees: Value, seller_sees: Value| {
        let (app, collector, artist) = (&app, &collector, &artist);
        async move {
            for query in ["", "?per_page=10"] {
                let purchases = app
                    .get(
                        &format!("/api/orders/purchase-requests/{query}"),
                        Some(&collector.token),
                    )
                    .await;
                purchases.assert_status(200);
                assert_eq!(purchases.body, json!([buyer_sees.clone()]), "{query}");
                let sales = app
                    .get(&format!("/api/orders/seller/{query}"), Some(&artist.token))
                    .await;
                sales.assert_status(200);
                assert_eq!(sales.body, json!([seller_sees.clone()]), "{query}");
            }
        }
    };
    let pending = expected("1 Canal Walk", "EH1 1YZ");
    lists(pending.clone(), expected("", "EH1")).await;

    // Accepted and paid (the delivery address is copied), then the buyer moves house:
    // the order keeps the address it was paid for, both parties see it, and it has
    // changed since it was made.
    review(&app, &artist, order, "accept").await.assert_status(200);
    app.patch(
        &format!("/api/orders/payment/{order}/"),
        Some(&collector.token),
        json!({"card_number": "4242424242424242", "cvc": "123"}),
    )
    .await
    .assert_status(200);
    app.patch(
        "/api/members/user/",
        Some(&collector.token),
        json!({"address": "2 New Street", "postcode": "G1 1AA"}),
    )
    .await
    .assert_status(200);
    let detail = app
        .get(&format!("/api/orders/order-details/{order}/"), Some(&collector.token))
        .await;
    let updated = detail.body["updated_at"].clone();
    assert_ne!(updated, created.body["created_at"]);
    let paid = |mut view: Value| {
        view["status"] = json!("ready to ship");
        view["updated_at"] = updated.clone();
        view
    };
    let mut both_see = paid(expected("1 Canal Walk", "EH1 1YZ"));
    for flag in ["viewed_by_buyer", "viewed_by_seller"] {
        both_see[flag] = detail.body[flag].clone();
    }
    lists(both_see.clone(), both_see).await;
}

//! A read runs a fixed, small number of queries whatever its size: no query per artwork,
//! artist or image (the first version's N+1). A catalogue page takes one query, its rows
//! carrying their images and their count; an artwork, one.
//! Its own test binary, so that the process-wide count of statement events sees
//! only this test's queries.

#[expect(dead_code, reason = "shared with the api tests; this binary uses part of it")]
#[path = "api/helpers.rs"]
mod helpers;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use helpers::TestApp;
use openstudio::cache::Recent;
use serde_json::json;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Counts the statements sqlx runs (its `sqlx::query` events) and those SQLite's hot
/// reads run outside it (`sqlite_reads`), except the settings a
/// connection runs when the pool opens it: whether the pool opens one during a request
/// is the pool's business, not the page's.
struct QueryCounter(Arc<AtomicUsize>);

#[derive(Default)]
struct Statement(String);

impl tracing::field::Visit for Statement {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if ["db.statement", "summary", "statement"].contains(&field.name()) {
            self.0.push_str(&format!("{value:?}"));
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for QueryCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let target = event.metadata().target();
        if target != "sqlx::query" && target != openstudio::sqlite_reads::STATEMENT_EVENTS {
            return;
        }
        let mut statement = Statement::default();
        event.record(&mut statement);
        let setup = ["pragma", "openstudio_statement_deadline", "set statement_timeout"];
        if !setup.iter().any(|s| statement.0.to_lowercase().contains(s)) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn queries_for(app: &TestApp, counter: &AtomicUsize, path: &str, token: Option<&str>) -> usize {
    if token.is_some() {
        // The token's member is a copy trusted for a second. Let it lapse, so that the
        // warming request reads it afresh and the counted one, just after, finds it:
        // otherwise a copy read nearly a second earlier could lapse between the two, and
        // the counted request would pay the member's read at one size and not the other.
        tokio::time::sleep(Recent::<(), ()>::FRESH_FOR + Duration::from_millis(50)).await;
    }
    // Once to warm the pool (new connections run their pragmas), then counted.
    app.get(path, token).await.assert_status(200);
    counter.store(0, Ordering::SeqCst);
    let res = app.get(path, token).await;
    res.assert_status(200);
    counter.load(Ordering::SeqCst)
}

#[tokio::test]
async fn list_pages_cost_the_same_few_queries_at_any_size() {
    let counter = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(QueryCounter(counter.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber for this binary");

    // The page cache would hide the queries; this test is about what a miss costs.
    let app = TestApp::spawn_with(|config| config.catalogue_cache_ms = 0).await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let gallery = buyer.gallery_id.unwrap();
    let first = app.artwork(&artist, 1).await;
    let paths = [
        ("/api/artworks/?per_page=50".to_owned(), None),
        ("/api/artworks/?per_page=200".to_owned(), None),
        ("/api/artworks/".to_owned(), None),
        (format!("/api/artworks/{first}/"), None),
        (
            "/api/artworks/?medium=painting&min_price=1&ordering=-price".to_owned(),
            None,
        ),
        ("/api/artworks/?q=harbour".to_owned(), None),
        (format!("/api/artists/{}/", artist.id), None),
        ("/api/galleries/my-gallery/".to_owned(), Some(buyer.token.clone())),
        (format!("/api/galleries/{gallery}/artworks/"), Some(buyer.token.clone())),
        ("/api/orders/purchase-requests/".to_owned(), Some(buyer.token.clone())),
        ("/api/orders/seller/".to_owned(), Some(artist.token.clone())),
        ("/api/orders/seller/?per_page=50".to_owned(), Some(artist.token.clone())),
    ];
    // A page of the catalogue and an artwork take one query: the rows carry their images
    // and the page's count. A page of orders takes one or two (the rows, the count). The
    // token's member is a recent copy, no query. A whole list is streamed a chunk (200)
    // a query.
    let one = |path: &str| path.starts_with("/api/artworks/?per_page") || path == format!("/api/artworks/{first}/");
    let at_most_two = |path: &str| path.contains("per_page");

    let mut small = Vec::new();
    let grow = |n: usize| {
        let (app, artist, buyer) = (&app, &artist, &buyer);
        async move {
            for _ in 0..n {
                let artwork = app.artwork_with(artist, json!({"title": "Harbour"})).await;
                app.order(buyer, artwork).await;
                app.post(
                    &format!("/api/galleries/{gallery}/curate/"),
                    Some(&buyer.token),
                    json!({"artwork": artwork}),
                )
                .await;
            }
        }
    };
    grow(2).await;
    for (path, token) in &paths {
        small.push(queries_for(&app, &counter, path, token.as_deref()).await);
    }
    grow(30).await;
    for ((path, token), before) in paths.iter().zip(&small) {
        let after = queries_for(&app, &counter, path, token.as_deref()).await;
        assert_eq!(after, *before, "{path}: {before} queries with 2 items, {after} with 32");
        assert!(after <= 5, "{path}: {after} queries");
        if one(path) {
            assert_eq!(after, 1, "{path}: {after} queries");
        }
        if at_most_two(path) {
            assert!(after <= 2, "{path}: {after} queries");
        }
        assert!(after >= 1, "{path}: the counter sees the queries");
    }
}

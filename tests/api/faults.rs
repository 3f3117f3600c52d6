//! Faults must not stick: a full disk, a dropped connection, an outage. While the fault
//! lasts the server answers 503/507 with Retry-After (never 500); after it passes, it
//! works again by itself.

use std::time::Duration;

use futures::future::join_all;
use serde_json::json;
use sqlx::Row;

use crate::helpers::TestApp;

fn is_sqlite() -> bool {
    std::env::var("TEST_DATABASE_URL").map_or(true, |u| u.is_empty())
}

#[tokio::test]
async fn a_full_disk_refuses_writes_and_they_work_again_once_space_is_freed() {
    if !is_sqlite() {
        eprintln!("skipped on PostgreSQL: the full-disk case is SQLite's max_page_count");
        return;
    }
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let collector = app.collector().await;
    let gallery = collector.gallery_id.unwrap();
    let kept = app.artwork(&artist, 1).await;
    let others: Vec<i64> = join_all((0..30).map(|_| app.artwork(&artist, 1))).await;
    let pages: i64 = sqlx::query("PRAGMA page_count")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    app.state.db.limit_pages(pages).await.unwrap();

    // Fill the file: every write is refused as storage-full, none with a 500.
    let mut refused = 0;
    for i in 0..40 {
        let mut body = TestApp::artwork_body();
        body["description"] = json!(format!("{i} {}", "long enough to fill pages ".repeat(10)));
        let res = app.post("/api/artworks/", Some(&artist.token), body).await;
        assert!(matches!(res.status, 201 | 507), "{i}: {} {}", res.status, res.body);
        if res.status == 507 {
            refused += 1;
            assert!(!res.header("retry-after").is_empty());
            assert_eq!(res.header("content-type"), "application/problem+json");
        }
    }
    assert!(refused >= 20, "the disk filled up ({refused} refused)");
    // Readiness says so, and stays up: reads still work.
    let ready = app.get("/health/ready", None).await;
    ready.assert_status(200);
    assert_eq!(ready.body["status"], "degraded");
    assert!(ready.body["storage"].as_str().unwrap().starts_with("full"));
    app.get(&format!("/api/artworks/{kept}"), None).await.assert_status(200);
    // Other writes are refused the same way (a single-row insert makes SQLite roll the
    // whole transaction back by itself), never left in a broken transaction (500).
    for artwork in &others {
        let res = app
            .post(
                &format!("/api/galleries/{gallery}/curate"),
                Some(&collector.token),
                json!({"artwork": artwork}),
            )
            .await;
        assert!(matches!(res.status, 201 | 507), "{}", res.body);
        let res = app
            .patch(
                &format!("/api/artworks/{kept}"),
                Some(&artist.token),
                json!({"title": "x".repeat(100)}),
            )
            .await;
        assert!(matches!(res.status, 200 | 507), "{}", res.body);
    }

    // Space is freed: writes work again, without a restart, and readiness recovers.
    app.state.db.limit_pages(1_000_000).await.unwrap();
    app.artwork(&artist, 1).await;
    app.patch(
        &format!("/api/artworks/{kept}"),
        Some(&artist.token),
        json!({"title": "Back"}),
    )
    .await
    .assert_status(200);
    let ready = app.get("/health/ready", None).await;
    assert_eq!((ready.status, ready.body["status"].as_str()), (200, Some("ready")));
}

#[tokio::test]
async fn killed_database_connections_answer_503_and_the_pool_recovers() {
    if is_sqlite() {
        eprintln!("skipped on SQLite: killing server connections is PostgreSQL's case");
        return;
    }
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let artwork = app.artwork(&artist, 1).await;
    // Authenticated for the first time only after the fault: their token's member, and
    // the browser's session, are read from the database then, not from this instance's
    // copies of a second ago.
    let newcomer = app.collector().await;
    let (mut browser, _) = crate::web::member(&app, "collector").await;
    let database: String = sqlx::query("SELECT current_database()::text")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let admin = std::env::var("TEST_DATABASE_URL").unwrap();
    let mut killer = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    let app = &app;
    for round in 0..5 {
        // Requests under way while every connection of the app's database is killed.
        let requests = join_all((0..30).map(|i| async move {
            match i % 3 {
                0 => app.get(&format!("/api/artworks/{artwork}"), None).await.status,
                1 => app.get("/api/artworks/?per_page=5", None).await.status,
                // A search: the index (read when the database's count moved) and the page.
                _ => app.get("/api/artworks/?q=harbour&for_sale=true", None).await.status,
            }
        }));
        let kill = async {
            sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
                .bind(&database)
                .execute(&mut killer)
                .await
                .unwrap();
        };
        let (statuses, ()) = futures::join!(requests, kill);
        for status in statuses {
            assert!(
                matches!(status, 200 | 503),
                "round {round}: a lost connection answered {status}"
            );
        }
    }
    // Killed while idle, after the fault: the probe closes each broken connection it
    // meets and answers from a working one at once.
    let pids: Vec<i32> = sqlx::query("SELECT pid FROM pg_stat_activity WHERE datname = $1")
        .bind(&database)
        .fetch_all(&mut killer)
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get(0).unwrap())
        .collect();
    assert!(!pids.is_empty(), "the pools keep idle connections");
    let listed = pids.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    sqlx::query(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN ({listed})"
    ))
    .execute(&mut killer)
    .await
    .unwrap();
    for _ in 0..100 {
        let alive: i64 = sqlx::query(&format!(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE pid IN ({listed})"
        ))
        .fetch_one(&mut killer)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
        if alive == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The hot reads take another connection when theirs broke while idle: the very next
    // ones answer, not a 503 for each dead connection in the pool.
    app.get(&format!("/api/artworks/{artwork}/"), None)
        .await
        .assert_status(200);
    app.get("/api/artworks/?per_page=5", None).await.assert_status(200);
    app.get("/api/orders/unviewed-orders/", Some(&artist.token))
        .await
        .assert_status(200);
    app.get("/api/orders/unviewed-orders/", Some(&newcomer.token))
        .await
        .assert_status(200);
    // The other connections are checked before use once idle for a second: a page that
    // reads through them answers too.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let purchases = browser.get("/purchases").await;
    assert_eq!(
        purchases.status, 200,
        "the session still opens its page: {}",
        purchases.html
    );
    app.get("/health/ready", None).await.assert_status(200);
    // The fault passed: the next requests succeed.
    let mut ok = false;
    for _ in 0..20 {
        if app.get(&format!("/api/artworks/{artwork}"), None).await.status == 200 {
            ok = true;
            break;
        }
    }
    assert!(ok, "the pool replaced its broken connections");
    app.get("/health/ready", None).await.assert_status(200);
}

/// A TCP proxy in front of PostgreSQL that can black-hole every connection, old and new:
/// an outage in which the server neither answers nor refuses.
struct Proxy {
    port: u16,
    down: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (down, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (target, mut watch) = (target.clone(), watch.clone());
                tokio::spawn(async move {
                    if *watch.borrow() {
                        // Hold the socket and say nothing until the outage ends.
                        let _ = watch.wait_for(|down| !*down).await;
                        return;
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watch.wait_for(|down| *down) => {}
                    }
                });
            }
        });
        Self { port, down }
    }
}

#[tokio::test]
async fn a_database_outage_fails_fast_and_readiness_says_so_within_a_second() {
    let Some(admin) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped on SQLite: a database outage is PostgreSQL's case");
        return;
    };
    let mut database = crate::helpers::TestDatabase::new().await;
    let target = url::Url::parse(&admin).unwrap();
    let target = format!("{}:{}", target.host_str().unwrap(), target.port().unwrap_or(5432));
    let proxy = Proxy::start(target).await;
    let mut url = url::Url::parse(&database.url).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    database.url = url.to_string();
    let app = TestApp::spawn_on(database, |config| config.database_acquire_timeout_ms = 1000).await;
    let artist = app.artist().await;
    let artwork = app.artwork(&artist, 1).await;

    proxy.down.send_replace(true);
    let started = std::time::Instant::now();
    let ready = app.get("/health/ready", None).await;
    ready.assert_status(503);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "readiness waited {:?}",
        started.elapsed()
    );
    // The search index has not been read yet: reading it fails as any read does.
    for path in [
        format!("/api/artworks/{artwork}"),
        "/api/artworks/?per_page=5".to_owned(),
        "/api/artworks/?q=harbour".to_owned(),
    ] {
        let res = app.get(&path, None).await;
        res.assert_status(503);
        assert_eq!(res.header("retry-after"), "1");
    }

    proxy.down.send_replace(false);
    let mut recovered = false;
    for _ in 0..50 {
        if app.get(&format!("/api/artworks/{artwork}"), None).await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "requests succeed again after the outage");
    app.get("/health/ready", None).await.assert_status(200);
    assert_eq!(app.ids("/api/artworks/?q=harbour").await, vec![artwork]);
}

#[tokio::test]
async fn a_statement_past_the_request_deadline_is_stopped_on_both_engines() {
    let app = TestApp::spawn_with(|config| config.request_timeout_ms = 1000).await;
    let endless = if is_sqlite() {
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT COUNT(*) FROM n"
    } else {
        "SELECT COUNT(*) FROM generate_series(1, 100000000000)"
    };
    let started = std::time::Instant::now();
    let error = sqlx::query(endless)
        .execute(app.state.db.pool())
        .await
        .expect_err("stopped");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        openstudio::db::fault(&error),
        Some(openstudio::db::Fault::Unavailable),
        "{error}"
    );
    // A write transaction on the single SQLite writer is stopped the same way, and the
    // writer works afterwards.
    let mut tx = app.state.db.begin().await.unwrap();
    let error = sqlx::query(endless).execute(&mut *tx).await.expect_err("stopped");
    assert_eq!(
        openstudio::db::fault(&error),
        Some(openstudio::db::Fault::Unavailable),
        "{error}"
    );
    drop(tx);
    let artist = app.artist().await;
    let artwork = app.artwork(&artist, 1).await;
    // PostgreSQL's typed pool for the hot reads has the same deadline.
    if let openstudio::db::Reads::Postgres(readers) = app.state.db.reads() {
        let error = readers
            .read(|conn, _| Box::pin(sqlx::query(endless).execute(conn)))
            .await
            .expect_err("stopped");
        assert_eq!(
            openstudio::db::fault(&error),
            Some(openstudio::db::Fault::Unavailable),
            "{error}"
        );
    }
    // SQLite's hot reads, outside sqlx, too: 503, and the next read works.
    if let openstudio::db::Reads::Sqlite(readers) = app.state.db.reads() {
        let started = std::time::Instant::now();
        let stopped = readers
            .run(|conn| openstudio::sqlite_reads::rows(conn, endless, &Default::default(), |row| row.get::<_, i64>(0)))
            .await
            .expect_err("stopped");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let stopped = openstudio::error::ApiError::from(stopped);
        assert_eq!(stopped.status(), 503, "{stopped}");
        app.get(&format!("/api/artworks/{artwork}/"), None)
            .await
            .assert_status(200);
    }
}

#[tokio::test]
async fn readiness_asks_the_hot_reads_connections_too() {
    if !is_sqlite() {
        eprintln!("skipped on PostgreSQL: its hot reads' pool is probed like the other (the outage test)");
        return;
    }
    let app = TestApp::spawn().await;
    app.get("/health/ready", None).await.assert_status(200);
    let openstudio::db::Reads::Sqlite(readers) = app.state.db.reads() else {
        panic!("a SQLite database reads on its own readers");
    };
    // The catalogue's reads cannot be served, though sqlx's pool still answers.
    readers.close();
    app.get("/api/artworks/?per_page=5", None).await.assert_status(503);
    let ready = app.get("/health/ready", None).await;
    ready.assert_status(503);
    assert_eq!(ready.body["detail"], "The database is not reachable.");
}

#[tokio::test]
async fn an_abandoned_hot_read_does_not_hand_its_busy_connection_to_the_next() {
    if is_sqlite() {
        eprintln!("skipped on SQLite: PostgreSQL's hot-read connections are the case");
        return;
    }
    let app = TestApp::spawn().await;
    // One connection, and a statement timeout longer than the test would wait.
    let readers =
        openstudio::pg_reads::PgReaders::new(&app.state.config.database_url, 1, Duration::from_secs(5), 120_000)
            .unwrap();
    let one = |readers: &openstudio::pg_reads::PgReaders| {
        let readers = readers.clone();
        async move {
            readers
                .read(|conn, _| Box::pin(sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(conn)))
                .await
        }
    };
    assert_eq!(one(&readers).await.unwrap(), 1);
    assert_eq!(readers.held(), 1);
    // Each connection has the statement timeout, and asks the server to end a statement
    // whose client has gone (PostgreSQL 14 and later).
    let setting = |name: &'static str| {
        let readers = readers.clone();
        async move {
            let show = format!("SHOW {name}");
            let show = show.as_str();
            readers
                .read(|conn, _| Box::pin(sqlx::query_scalar::<_, String>(show).fetch_one(conn)))
                .await
                .unwrap()
        }
    };
    assert_eq!(setting("statement_timeout").await, "2min");
    assert_eq!(setting("client_connection_check_interval").await, "1s");
    // A read abandoned half-way, as a request's deadline or a client that left abandons
    // it: the server is still running its statement.
    let abandoned = tokio::time::timeout(
        Duration::from_millis(300),
        readers.read(|conn, _| Box::pin(sqlx::query("SELECT pg_sleep(60)").execute(conn))),
    )
    .await;
    assert!(abandoned.is_err(), "still running");
    assert_eq!(readers.held(), 0, "the busy connection was closed, not given back");
    // The next read has a connection of its own at once, rather than one that first
    // waits out the abandoned statement (a minute).
    let next = tokio::time::timeout(Duration::from_secs(20), one(&readers)).await;
    assert_eq!(next.expect("the next read did not wait").unwrap(), 1);
}

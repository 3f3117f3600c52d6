//! Notifications: written with the change they report, read and marked by their
//! recipient only, streamed live (across instances on PostgreSQL), and emailed.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{TestApp, User};

fn is_sqlite() -> bool {
    std::env::var("TEST_DATABASE_URL").map_or(true, |u| u.is_empty())
}

/// The kinds of a member's notifications, oldest first.
async fn kinds(app: &TestApp, user: &User) -> Vec<String> {
    let res = app.get("/api/notifications/?per_page=200", Some(&user.token)).await;
    res.assert_status(200);
    let mut kinds: Vec<String> = res
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.reverse();
    kinds
}

/// An open event stream, read as a client reads it.
struct Stream {
    res: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(app: &TestApp, request: reqwest::RequestBuilder) -> Stream {
        let _ = app;
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), 200, "the stream opens");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        Stream {
            res,
            buffer: String::new(),
        }
    }

    fn bearer(app: &TestApp, user: &User, last: Option<i64>) -> reqwest::RequestBuilder {
        let mut request = app
            .client
            .get(format!("{}/api/notifications/stream", app.base))
            .bearer_auth(&user.token);
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        request
    }

    /// The next notification event (`id`, data), or None if none comes within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<(i64, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = None;
                let mut event = None;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse::<i64>().ok();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = serde_json::from_str::<Value>(v.trim()).ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = Some(v.trim().to_owned());
                    }
                }
                if let (Some("notification"), Some(id), Some(data)) = (event.as_deref(), id, data) {
                    return Some((id, data));
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk()).await.ok()?;
            match chunk {
                Ok(Some(bytes)) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }
}

#[tokio::test]
async fn every_transition_tells_the_other_party_once() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let other = app.collector().await;
    let loser = app.collector().await;

    // The whole way: request, accept, pay, ship, receive.
    let work = app.artwork(&artist, 5).await;
    let order = app.order(&buyer, work).await;
    app.accept(&artist, order).await.assert_status(200);
    app.pay(&buyer, order).await.assert_status(200);
    app.patch(&format!("/api/orders/shipped/{order}"), Some(&artist.token), json!({}))
        .await
        .assert_status(200);
    app.patch(&format!("/api/orders/complete/{order}"), Some(&buyer.token), json!({}))
        .await
        .assert_status(200);
    assert_eq!(
        kinds(&app, &artist).await,
        ["order_requested", "order_paid", "order_completed"]
    );
    assert_eq!(kinds(&app, &buyer).await, ["order_accepted", "order_shipped"]);

    // The seller's refusal, and the buyer's cancellation.
    let refused = app.order(&other, work).await;
    let res = app
        .patch(
            &format!("/api/orders/review/{refused}"),
            Some(&artist.token),
            json!({"action": "cancel"}),
        )
        .await;
    res.assert_status(200);
    let cancelled = app.order(&other, work).await;
    app.patch(
        &format!("/api/orders/cancel/{cancelled}"),
        Some(&other.token),
        json!({}),
    )
    .await
    .assert_status(200);
    assert_eq!(kinds(&app, &other).await, ["order_rejected"]);
    assert_eq!(
        kinds(&app, &artist).await[3..],
        ["order_requested", "order_requested", "order_cancelled"]
    );

    // The last copy sold cancels the other open order; a withdrawal cancels its orders.
    let last = app.artwork(&artist, 1).await;
    let winner = app.order(&buyer, last).await;
    app.order(&loser, last).await;
    app.accept(&artist, winner).await.assert_status(200);
    app.pay(&buyer, winner).await.assert_status(200);
    let withdrawn = app.artwork(&artist, 1).await;
    app.order(&other, withdrawn).await;
    app.delete(&format!("/api/artworks/{withdrawn}/"), Some(&artist.token))
        .await
        .assert_status(204);
    let loser_inbox = app.get("/api/notifications/", Some(&loser.token)).await;
    assert_eq!(loser_inbox.body.as_array().unwrap().len(), 1);
    assert_eq!(loser_inbox.body[0]["kind"], "order_cancelled");
    assert!(loser_inbox.body[0]["text"]
        .as_str()
        .unwrap()
        .contains("last copy was sold"));
    let other_inbox = app.get("/api/notifications/", Some(&other.token)).await;
    assert_eq!(other_inbox.body[0]["kind"], "order_cancelled");
    assert!(other_inbox.body[0]["text"].as_str().unwrap().contains("withdrew"));

    // The automatic completion tells both.
    app.patch(&format!("/api/orders/shipped/{winner}"), Some(&artist.token), json!({}))
        .await
        .assert_status(200);
    let before = (kinds(&app, &artist).await.len(), kinds(&app, &buyer).await.len());
    app.state.clock.advance(chrono::Duration::days(20));
    assert_eq!(openstudio::orders::complete_overdue(&app.state).await.unwrap(), 1);
    assert_eq!(kinds(&app, &artist).await.len(), before.0 + 1);
    assert_eq!(kinds(&app, &buyer).await.last().unwrap(), "order_completed");
    assert_eq!(kinds(&app, &buyer).await.len(), before.1 + 1);

    // Each item as documented.
    let item = &app.get("/api/notifications/", Some(&buyer.token)).await.body[0];
    let keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 7, "{item}");
    for key in ["id", "kind", "text", "order", "artwork", "created", "read"] {
        assert!(item.get(key).is_some(), "{key} in {item}");
    }
    assert_eq!(item["order"], winner);
    assert_eq!(item["artwork"], last);
    assert_eq!(item["read"], false);
}

/// Makes every notification about an artwork titled "Doomed" fail inside its transaction.
async fn doom(app: &TestApp) {
    let statements: &[&str] = if is_sqlite() {
        &[
            "CREATE TRIGGER doom BEFORE INSERT ON notifications WHEN NEW.text LIKE '%Doomed%' \
           BEGIN SELECT RAISE(ABORT, 'doomed'); END",
        ]
    } else {
        &[
            "CREATE FUNCTION doom() RETURNS trigger AS $$ BEGIN \
               IF NEW.text LIKE '%Doomed%' THEN RAISE EXCEPTION 'doomed'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER doom BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION doom()",
        ]
    };
    for sql in statements {
        sqlx::query(sql).execute(app.state.db.pool()).await.unwrap();
    }
}

#[tokio::test]
async fn a_transition_that_rolls_back_tells_nobody() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let doomed = app.artwork_with(&artist, json!({"title": "Doomed"})).await;
    let fine = app.artwork(&artist, 1).await;
    let mut stream = Stream::open(&app, Stream::bearer(&app, &artist, None)).await;
    doom(&app).await;
    let res = app
        .post("/api/orders/create", Some(&buyer.token), json!({"artwork_id": doomed}))
        .await;
    assert_eq!(res.status, 500, "the notification failed, so the whole request did");
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(orders, 0, "the order rolled back with its notification");
    assert_eq!(kinds(&app, &artist).await.len(), 0);
    let order = app.order(&buyer, fine).await;
    let (_, data) = stream
        .next(Duration::from_secs(10))
        .await
        .expect("the next change is streamed");
    assert_eq!(data["order"], order, "and the rolled-back one never was");
}

#[tokio::test]
async fn members_read_and_mark_only_their_own() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    for _ in 0..3 {
        let work = app.artwork(&artist, 1).await;
        app.order(&buyer, work).await;
    }
    let inbox = app.get("/api/notifications/?per_page=2", Some(&artist.token)).await;
    inbox.assert_status(200);
    assert_eq!(inbox.header("x-total-count"), "3");
    assert_eq!(inbox.body.as_array().unwrap().len(), 2);
    let ids: Vec<i64> = inbox
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    assert!(ids[0] > ids[1], "newest first");
    assert_eq!(app.get("/api/notifications/", Some(&buyer.token)).await.body, json!([]));
    // Marking someone else's changes nothing and reveals nothing.
    let res = app
        .post("/api/notifications/read/", Some(&buyer.token), json!({"ids": ids}))
        .await;
    res.assert_status(204);
    let count = app.get("/api/notifications/unread-count/", Some(&artist.token)).await;
    assert_eq!(count.body, json!({"count": 3}));
    app.post(
        "/api/notifications/read/",
        Some(&artist.token),
        json!({"ids": [ids[0]]}),
    )
    .await
    .assert_status(204);
    let unread = app.get("/api/notifications/?unread=true", Some(&artist.token)).await;
    assert_eq!(unread.body.as_array().unwrap().len(), 2);
    assert!(unread.body.as_array().unwrap().iter().all(|n| n["read"] == false));
    app.post("/api/notifications/read/", Some(&artist.token), json!({"all": true}))
        .await
        .assert_status(204);
    assert_eq!(
        app.get("/api/notifications/unread-count/", Some(&artist.token))
            .await
            .body["count"],
        0
    );
    let bad = app
        .post("/api/notifications/read/", Some(&artist.token), json!({"ids": ["x"]}))
        .await;
    bad.assert_status(400);
    let neither = app
        .post("/api/notifications/read/", Some(&artist.token), json!({}))
        .await;
    neither.assert_status(400);
    assert_eq!(app.get("/api/notifications/", None).await.status, 401);
    assert_eq!(
        app.get("/api/notifications/?unread=maybe", Some(&artist.token))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn a_stream_delivers_live_and_replays_what_a_reconnect_missed() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let stranger = app.artist().await;
    let mut theirs = Stream::open(&app, Stream::bearer(&app, &stranger, None)).await;
    let mut stream = Stream::open(&app, Stream::bearer(&app, &artist, None)).await;
    let first = app.order(&buyer, app.artwork(&artist, 1).await).await;
    let (id, data) = stream.next(Duration::from_secs(10)).await.expect("delivered live");
    assert_eq!(data["order"], first);
    assert_eq!(data["kind"], "order_requested");
    assert_eq!(data["id"], id);
    drop(stream);
    // Missed while disconnected: replayed on reconnect, then live again.
    let second = app.order(&buyer, app.artwork(&artist, 1).await).await;
    let third = app.order(&buyer, app.artwork(&artist, 1).await).await;
    let mut again = Stream::open(&app, Stream::bearer(&app, &artist, Some(id))).await;
    let (_, a) = again.next(Duration::from_secs(10)).await.unwrap();
    let (_, b) = again.next(Duration::from_secs(10)).await.unwrap();
    assert_eq!((a["order"].as_i64(), b["order"].as_i64()), (Some(second), Some(third)));
    let fourth = app.order(&buyer, app.artwork(&artist, 1).await).await;
    assert_eq!(again.next(Duration::from_secs(10)).await.unwrap().1["order"], fourth);
    assert!(
        theirs.next(Duration::from_millis(500)).await.is_none(),
        "another member's stream hears nothing of it"
    );
}

#[tokio::test]
async fn streams_open_with_a_ticket_once_or_the_web_session_and_are_capped() {
    let app = TestApp::spawn_with(|c| c.streams_per_member = 2).await;
    let artist = app.artist().await;
    let url = format!("{}/api/notifications/stream", app.base);
    let ticket = app
        .post("/api/notifications/ticket/", Some(&artist.token), json!({}))
        .await;
    ticket.assert_status(201);
    let ticket = ticket.body["ticket"].as_str().unwrap().to_owned();
    let first = Stream::open(&app, app.client.get(format!("{url}?ticket={ticket}"))).await;
    let again = app.client.get(format!("{url}?ticket={ticket}")).send().await.unwrap();
    assert_eq!(again.status(), 401, "a ticket opens one stream");
    let late = app
        .post("/api/notifications/ticket/", Some(&artist.token), json!({}))
        .await;
    app.state.clock.advance(chrono::Duration::seconds(61));
    let late = late.body["ticket"].as_str().unwrap();
    assert_eq!(
        app.client
            .get(format!("{url}?ticket={late}"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        app.client
            .get(format!("{url}?access_token={}", artist.token))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "never the token in the URL"
    );
    // The web session's cookie opens it too (a page's EventSource sends it).
    let member = openstudio::members::find(&app.state.db, artist.id)
        .await
        .unwrap()
        .unwrap();
    let session =
        openstudio::members::sessions::open(&app.state.db, &member, app.state.clock.now(), chrono::Duration::days(1))
            .await
            .unwrap();
    let second = Stream::open(
        &app,
        app.client.get(&url).header("cookie", format!("os_session={session}")),
    )
    .await;
    let third = app.client.get(&url).bearer_auth(&artist.token).send().await.unwrap();
    assert_eq!(third.status(), 429, "at most two streams per member here");
    drop((first, second));
    tokio::time::sleep(Duration::from_millis(100)).await;
    Stream::open(&app, Stream::bearer(&app, &artist, None)).await;
}

#[tokio::test]
async fn a_change_on_one_instance_reaches_a_stream_on_another_even_after_the_database_drops_connections() {
    if is_sqlite() {
        eprintln!("skipped on SQLite: instances share notifications through PostgreSQL's LISTEN/NOTIFY");
        return;
    }
    // No look at the table by the clock: what reaches B comes through LISTEN/NOTIFY.
    let a = TestApp::spawn_with(|c| c.notification_poll_ms = 3_600_000).await;
    let b = a.another_instance().await;
    let artist = a.artist().await;
    let buyer = a.collector().await;
    let mut stream = Stream::open(&b, Stream::bearer(&b, &artist, None)).await;
    let order = a.order(&buyer, a.artwork(&artist, 1).await).await;
    let (_, data) = stream
        .next(Duration::from_secs(5))
        .await
        .expect("delivered through the other instance");
    assert_eq!(data["order"], order);

    // Every connection to the database is cut, the listeners' too.
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        .execute(a.state.db.pool())
        .await
        .ok();
    // The first requests may meet a cut connection (503, try again); then all works again.
    let mut order = None;
    for _ in 0..50 {
        let mut body = TestApp::artwork_body();
        body["quantity_for_sale"] = json!(1);
        let work = a.post("/api/artworks/", Some(&artist.token), body).await;
        if work.status == 201 {
            let placed = a
                .post(
                    "/api/orders/create",
                    Some(&buyer.token),
                    json!({"artwork_id": work.body["id"]}),
                )
                .await;
            if placed.status == 201 {
                order = placed.body["id"].as_i64();
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let order = order.expect("the instances work again by themselves");
    let (_, data) = stream
        .next(Duration::from_secs(10))
        .await
        .expect("the stream catches up");
    assert_eq!(data["order"], order);
}

/// A real SMTP server (aiosmtpd) writing what it accepts to a folder.
struct SmtpServer {
    _child: tokio::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    async fn start(refuse_first: u32) -> Option<SmtpServer> {
        let available = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !available {
            eprintln!("skipped: Python's aiosmtpd is not installed (pip install aiosmtpd; .ci/run does)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/server.py");
        let mut child = tokio::process::Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .arg("--refuse-first")
            .arg(refuse_first.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        use tokio::io::AsyncBufReadExt;
        tokio::io::BufReader::new(stdout).read_line(&mut line).await.unwrap();
        Some(SmtpServer {
            _child: child,
            port: line.trim().parse().unwrap(),
            dir,
        })
    }

    fn messages(&self) -> Vec<String> {
        let mut found: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect();
        found.sort();
        found
    }

    async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..200 {
            if self.messages().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.messages()
    }
}

#[tokio::test]
async fn notifications_are_emailed_once_even_through_a_refusal_and_not_to_who_turned_them_off() {
    let Some(smtp) = SmtpServer::start(1).await else { return };
    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    let app = TestApp::spawn_with(move |c| {
        c.smtp_url = Some(url);
        c.smtp_from = "OpenStudio <studio@openstudio.example>".into();
        c.email_retry_ms = 100;
        c.email_interval_ms = 50;
    })
    .await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let quiet = app.artist().await;
    app.patch(
        "/api/members/user/",
        Some(&quiet.token),
        json!({"email_notifications": false}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.get("/api/members/user/", Some(&quiet.token)).await.body["email_notifications"],
        false
    );
    app.order(&buyer, app.artwork(&quiet, 1).await).await;
    let order = app.order(&buyer, app.artwork(&artist, 1).await).await;

    // The server refuses the first attempt; the worker tries again and it arrives once.
    let messages = smtp.wait_for(1).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert!(
        message.starts_with(&format!("{}\n", artist.email)),
        "to the artist: {message}"
    );
    assert!(message.contains("asked to buy"), "{message}");
    assert!(message.contains(&format!("/orders/{order}")), "{message}");
    assert!(message.contains("studio@openstudio.example"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        smtp.messages().len(),
        1,
        "sent once, and nothing to the member who turned email off"
    );
    let (state, attempts): (String, i64) = {
        let row = sqlx::query("SELECT email, email_attempts FROM notifications WHERE order_id = $1")
            .bind(order)
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
        use sqlx::Row;
        (row.get(0), row.get(1))
    };
    assert_eq!((state.as_str(), attempts), ("sent", 1));
}

#[tokio::test]
async fn streams_end_cleanly_when_the_server_shuts_down() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let mut stream = Stream::open(&app, Stream::bearer(&app, &artist, None)).await;
    assert_eq!(app.state.live.open_streams(), 1);
    app.state.live.close();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while stream.res.chunk().await.ok().flatten().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ends at once");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(app.state.live.open_streams(), 0, "its slot is given back");
    let refused = app
        .client
        .get(format!("{}/api/notifications/stream", app.base))
        .bearer_auth(&artist.token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503, "no new stream while shutting down");
}

#[tokio::test]
async fn an_idle_stream_carries_heartbeats_and_outlives_the_request_deadline() {
    let app = TestApp::spawn_with(|c| {
        c.stream_heartbeat_ms = 100;
        c.request_timeout_ms = 500;
    })
    .await;
    let artist = app.artist().await;
    let buyer = app.collector().await;
    let mut stream = Stream::open(&app, Stream::bearer(&app, &artist, None)).await;
    let mut raw = String::new();
    let until = tokio::time::Instant::now() + Duration::from_millis(1200);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(until, stream.res.chunk()).await {
        raw.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        raw.lines().filter(|l| l.starts_with(':')).count() >= 3,
        "comments while idle: {raw:?}"
    );
    // Past the request deadline, the stream still delivers.
    let order = app.order(&buyer, app.artwork(&artist, 1).await).await;
    assert_eq!(stream.next(Duration::from_secs(5)).await.unwrap().1["order"], order);
}

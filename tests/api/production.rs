//! Running in production: health, security headers, request ids, abuse limits, deadlines.

use futures::future::join_all;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

#[tokio::test]
async fn health_checks() {
    let app = TestApp::spawn().await;
    let live = app.get("/health/live", None).await;
    live.assert_status(200);
    assert_eq!(live.body["status"], "ok");
    let ready = app.get("/health/ready/", None).await;
    ready.assert_status(200);
    assert_eq!(ready.body["migrations"], "applied");
    // A database missing a migration is not ready.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let not_ready = app.get("/health/ready", None).await;
    not_ready.assert_status(503);
    assert_eq!(not_ready.header("content-type"), "application/problem+json");
    assert_eq!(not_ready.header("retry-after"), "1");
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/api/", "/api/artworks/", "/api/nowhere", "/health/live"] {
        let res = app.get(path, None).await;
        assert_eq!(res.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(res.header("x-frame-options"), "DENY", "{path}");
        assert_eq!(res.header("referrer-policy"), "no-referrer", "{path}");
        assert!(
            res.header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(
            res.header("strict-transport-security").is_empty(),
            "no HSTS outside production"
        );
    }
    let prod = TestApp::spawn_with(|c| c.environment = openstudio::config::Environment::Prod).await;
    let res = prod.get("/api/", None).await;
    assert!(res.header("strict-transport-security").starts_with("max-age="));
}

#[tokio::test]
async fn requests_carry_an_id() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/api/", app.base))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
    let generated = app.get("/api/", None).await.header("x-request-id");
    assert_eq!(generated.len(), 32);
    assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()));
    let too_long = "x".repeat(300);
    let res = app
        .client
        .get(format!("{}/api/", app.base))
        .header("x-request-id", &too_long)
        .send()
        .await
        .unwrap();
    assert_ne!(
        res.headers()["x-request-id"],
        too_long.as_str(),
        "an unreasonable id is replaced"
    );
}

#[tokio::test]
async fn failed_logins_are_limited_per_account() {
    let app = TestApp::spawn_with(|c| c.login_failures_per_account = 3).await;
    let user = app.collector().await;
    let other = app.collector().await;
    let attempt = |email: String, password: &'static str| {
        let app = &app;
        async move { app.login(&email, password).await }
    };
    for _ in 0..3 {
        attempt(user.email.clone(), "wrong-password-1").await.assert_status(401);
    }
    let limited = attempt(user.email.to_uppercase(), PASSWORD).await;
    limited.assert_status(429);
    assert_eq!(limited.header("content-type"), "application/problem+json");
    let retry: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    attempt(other.email.clone(), PASSWORD).await.assert_status(200);
    // Unknown emails are limited the same way, so the limit reveals nothing.
    for _ in 0..3 {
        attempt("nobody@example.com".into(), "wrong-password-1")
            .await
            .assert_status(401);
    }
    attempt("nobody@example.com".into(), "wrong-password-1")
        .await
        .assert_status(429);
}

#[tokio::test]
async fn auth_requests_are_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.auth_requests_per_ip_per_minute = 4).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            app.post(
                "/api/members/login/",
                None,
                json!({"email": "a@example.com", "password": "x"}),
            )
            .await
            .status,
        );
    }
    statuses.push(
        app.post(
            "/api/members/register/",
            None,
            TestApp::registration("artist", "N1 9GU"),
        )
        .await
        .status,
    );
    assert_eq!(statuses, vec![401, 401, 401, 201]);
    let limited = app
        .post(
            "/api/members/register/",
            None,
            TestApp::registration("artist", "N1 9GU"),
        )
        .await;
    limited.assert_status(429);
    assert!(!limited.header("retry-after").is_empty());
    app.get("/api/artworks/", None).await.assert_status(200);
}

#[tokio::test]
async fn slow_requests_time_out_and_excess_ones_are_shed() {
    let app = TestApp::spawn_with(|c| c.request_timeout_ms = 1).await;
    let res = app
        .post(
            "/api/members/login/",
            None,
            json!({"email": "a@example.com", "password": "some-password"}),
        )
        .await;
    res.assert_status(503);
    assert_eq!(res.header("content-type"), "application/problem+json");

    let app = TestApp::spawn_with(|c| c.max_concurrent_requests = 1).await;
    let logins = (0..12).map(|_| {
        app.post(
            "/api/members/login/",
            None,
            json!({"email": "a@example.com", "password": "pw"}),
        )
    });
    let statuses: Vec<u16> = join_all(logins).await.iter().map(|r| r.status).collect();
    assert!(statuses.contains(&503), "{statuses:?}");
    assert!(statuses.contains(&401), "{statuses:?}");
}

#[tokio::test]
async fn bodies_are_limited_per_route() {
    let app = TestApp::spawn_with(|c| c.max_upload_bytes = 2048).await;
    let artist = app.artist().await;
    let big_json = json!({"title": "x".repeat(2 * 1024 * 1024)});
    app.post("/api/artworks/", Some(&artist.token), big_json)
        .await
        .assert_status(413);
    // The upload route allows ten files of MAX_UPLOAD_BYTES, and not much more.
    let huge = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![0u8; 3 * 1024 * 1024]).file_name("a.png"),
    );
    let res = app
        .client
        .post(format!("{}/api/images/upload/", app.base))
        .bearer_auth(&artist.token)
        .multipart(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn cors_preflight_names_the_headers_a_browser_may_send() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/api/orders/create/", app.base))
        .header("Origin", "http://localhost:5173")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type,idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let allowed = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    // `*` would not cover Authorization (Fetch standard): each header is listed.
    for header in ["authorization", "content-type", "idempotency-key"] {
        assert!(allowed.split(',').any(|h| h.trim() == header), "{header} in {allowed}");
    }
    assert!(!allowed.contains('*'), "{allowed}");
}

#[tokio::test]
async fn answers_to_a_token_are_never_cached_and_database_files_are_private() {
    let app = TestApp::spawn().await;
    let member = app.collector().await;
    let mine = app.get("/api/members/user/", Some(&member.token)).await;
    mine.assert_status(200);
    assert_eq!(mine.header("cache-control"), "no-store");
    let public = app.get("/api/artworks/", None).await;
    assert_ne!(public.header("cache-control"), "no-store");

    let url = &app.state.config.database_url;
    if let Some(path) = url.strip_prefix("sqlite://").and_then(|p| p.split('?').next()) {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{path} is readable by its owner only");
    }
}

async fn login_from(app: &TestApp, address: &str, email: &str, password: &str) -> u16 {
    app.client
        .post(format!("{}/api/members/login/", app.base))
        .header("x-forwarded-for", address)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_attacker_cannot_lock_a_member_out_from_another_address() {
    let app = TestApp::spawn_with(|c| {
        c.login_failures_per_account = 3;
        c.login_failures_per_account_ceiling = 8;
        c.trusted_proxies = openstudio::limits::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let victim = app.collector().await;
    let attacker = "198.51.100.66";
    let home = "203.0.113.10";
    for _ in 0..3 {
        assert_eq!(login_from(&app, attacker, &victim.email, "guess-guess-1").await, 401);
    }
    // The attacker's address is slowed, even with the right password...
    assert_eq!(login_from(&app, attacker, &victim.email, PASSWORD).await, 429);
    // ...the victim's is not.
    assert_eq!(login_from(&app, home, &victim.email, PASSWORD).await, 200);
    // A client-written address to the left of the proxy's is not believed.
    assert_eq!(
        login_from(&app, &format!("{home}, {attacker}"), &victim.email, PASSWORD).await,
        429
    );
    // Many addresses together meet the account's ceiling, which holds for everyone.
    for i in 0..5 {
        assert_eq!(
            login_from(&app, &format!("192.0.2.{i}"), &victim.email, "guess-guess-2").await,
            401
        );
    }
    assert_eq!(login_from(&app, home, &victim.email, PASSWORD).await, 429);
}

#[tokio::test]
async fn forwarding_headers_are_ignored_without_trusted_proxies() {
    let app = TestApp::spawn_with(|c| c.login_failures_per_account = 2).await;
    let member = app.collector().await;
    for i in 0..2 {
        assert_eq!(
            login_from(&app, &format!("192.0.2.{i}"), &member.email, "guess-guess-1").await,
            401
        );
    }
    // Every attempt came from this test's own address, whatever the header said.
    assert_eq!(login_from(&app, "192.0.2.99", &member.email, PASSWORD).await, 429);
}

#[tokio::test]
async fn wrong_current_passwords_count_like_failed_logins() {
    let app = TestApp::spawn_with(|c| c.login_failures_per_account = 3).await;
    let member = app.collector().await;
    let change = |current: &'static str| {
        let app = &app;
        let token = member.token.clone();
        async move {
            app.post(
                "/api/members/password/",
                Some(&token),
                json!({"current_password": current, "new_password": "amber-quarry-falcon-88", "new_password_confirmation": "amber-quarry-falcon-88"}),
            )
            .await
            .status
        }
    };
    for _ in 0..3 {
        assert_eq!(change("guess-guess-1").await, 400);
    }
    // A stolen token cannot keep guessing, even the right password.
    assert_eq!(change(PASSWORD).await, 429);
    app.post(
        "/api/members/login/",
        None,
        json!({"email": member.email, "password": PASSWORD}),
    )
    .await
    .assert_status(429);
}

#[tokio::test]
async fn on_postgresql_the_limits_hold_across_instances() {
    if std::env::var("TEST_DATABASE_URL").map_or(true, |u| u.is_empty()) {
        eprintln!("skipped on SQLite: one process, counters in memory");
        return;
    }
    let first = TestApp::spawn_with(|c| c.login_failures_per_account = 4).await;
    let second = first.another_instance().await;
    let member = first.collector().await;
    for app in [&first, &second, &first, &second] {
        app.post(
            "/api/members/login/",
            None,
            json!({"email": member.email, "password": "guess-guess-1"}),
        )
        .await
        .assert_status(401);
    }
    for app in [&first, &second] {
        app.post(
            "/api/members/login/",
            None,
            json!({"email": member.email, "password": PASSWORD}),
        )
        .await
        .assert_status(429);
    }
}

#[tokio::test]
async fn many_logins_at_once_with_the_right_password_all_succeed() {
    let app = TestApp::spawn_with(|c| c.login_failures_per_account = 3).await;
    let member = app.collector().await;
    let logins = (0..16).map(|_| {
        app.post(
            "/api/members/login/",
            None,
            json!({"email": member.email, "password": PASSWORD}),
        )
    });
    let statuses: Vec<u16> = join_all(logins).await.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![200; 16], "only wrong passwords count");
}

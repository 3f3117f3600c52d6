//! The `openstudio` binary itself: create-admin, start-up checks, graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use serde_json::json;

use crate::helpers::{TestApp, SECRET};

const ADMIN_PASSWORD: &str = "granite-orchard-kestrel-19";

fn openstudio(database_url: &str, dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_openstudio"));
    command
        .current_dir(dir)
        .env("DATABASE_URL", database_url)
        .env("SECRET_KEY", SECRET)
        .env("DATA_DIR", dir)
        .env("RUST_LOG", "info")
        .env_remove("ENVIRONMENT")
        .env_remove("OPENSTUDIO_ADMIN_PASSWORD");
    command
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("run openstudio"))
        .await
        .expect("join")
}

#[tokio::test]
async fn create_admin_makes_or_promotes_staff() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let url = app.state.config.database_url.clone();

    let mut command = openstudio(&url, dir.path());
    command.args(["create-admin", "--email", "boss@example.com", "--username", "boss"]);
    command
        .env("OPENSTUDIO_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdin(Stdio::null());
    let out = run(command).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created"));
    let login = app
        .post(
            "/api/members/login/",
            None,
            json!({"email": "boss@example.com", "password": ADMIN_PASSWORD}),
        )
        .await;
    login.assert_status(200);
    app.get("/api/orders/all/", login.body["token"].as_str())
        .await
        .assert_status(200);

    let member = app.collector().await;
    app.get("/api/galleries/all/", Some(&member.token))
        .await
        .assert_status(403);
    // An email someone already registered is refused: they might have registered it to
    // become staff.
    let admin_args = [
        "create-admin",
        "--email",
        &member.email.to_uppercase(),
        "--username",
        "someone-else",
    ];
    let mut command = openstudio(&url, dir.path());
    command.args(admin_args);
    command.env("OPENSTUDIO_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let out = run(command).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--promote"));
    app.get("/api/galleries/all/", Some(&member.token))
        .await
        .assert_status(403);
    // Asked for explicitly, the member is promoted and keeps their own password.
    let mut command = openstudio(&url, dir.path());
    command.args(admin_args).arg("--promote");
    command.env("OPENSTUDIO_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let out = run(command).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("is now staff") && said.contains("password is unchanged"),
        "{said}"
    );
    app.post(
        "/api/members/login/",
        None,
        json!({"email": member.email, "password": ADMIN_PASSWORD}),
    )
    .await
    .assert_status(401);
    // Another process changed the member: the server sees it within a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.get("/api/galleries/all/", Some(&member.token))
        .await
        .assert_status(200);

    let mut command = openstudio(&url, dir.path());
    command.args(["create-admin", "--email", "weak@example.com", "--username", "weak"]);
    command.env("OPENSTUDIO_ADMIN_PASSWORD", "password");
    let out = run(command).await;
    assert!(!out.status.success());
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM members WHERE is_staff = TRUE AND id > $1", 0)
            .await,
        2
    );
}

#[tokio::test]
async fn misconfiguration_fails_at_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
    let mut command = openstudio(&url, dir.path());
    command
        .env_remove("SECRET_KEY")
        .env("ENVIRONMENT", "PROD")
        .arg("migrate");
    let out = run(command).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SECRET_KEY"));

    let mut command = openstudio(&url, dir.path());
    command.env("PORT", "not-a-port").arg("serve");
    let out = run(command).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PORT"));
}

/// Starts `openstudio serve` on a free port; the child, and the address it says it
/// listens on. Its output keeps being drained, so it never blocks on a full pipe.
async fn serve(mut command: Command) -> (std::process::Child, String) {
    command
        .env("PORT", "0")
        .env("NO_COLOR", "1")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let base = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        let base = lines.by_ref().find_map(|line| {
            let at = line.find("http://")?;
            Some(line[at..].split_whitespace().next().unwrap_or_default().to_owned())
        });
        std::thread::spawn(move || lines.for_each(drop));
        base
    })
    .await
    .unwrap()
    .expect("the server says where it listens");
    (child, base)
}

#[tokio::test]
async fn serve_answers_and_stops_gracefully_on_sigterm() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let command = openstudio(&app.state.config.database_url, dir.path());
    let (mut child, base) = serve(command).await;
    let res = app.client.get(format!("{base}/api/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait().expect("wait"))
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_no_secrets() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = openstudio(&app.state.config.database_url, dir.path());
    command
        .env("PORT", "0")
        .env("LOG_FORMAT", "json")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, mut lines_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut base = None;
    while base.is_none() {
        let line = lines_rx.recv().await.expect("a log line");
        let event: serde_json::Value = serde_json::from_str(&line).expect("every line is JSON");
        if let Some(message) = event["fields"]["message"].as_str() {
            base = message
                .split_whitespace()
                .find(|w| w.starts_with("http://"))
                .map(str::to_owned);
        }
    }
    let base = base.unwrap();
    let login = app
        .client
        .post(format!("{base}/api/members/login/"))
        .header("x-request-id", "json-trace-1")
        .json(&json!({"email": "who@example.com", "password": "Sup3r-Secret-Value"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401);
    let mut seen = Vec::new();
    while let Ok(Some(line)) = tokio::time::timeout(std::time::Duration::from_secs(5), lines_rx.recv()).await {
        let done = line.contains("\"response\"") && line.contains("json-trace-1");
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
    let response_line = seen
        .iter()
        .find(|l| l.contains("json-trace-1"))
        .expect("the request's log line");
    let event: serde_json::Value = serde_json::from_str(response_line).unwrap();
    assert_eq!(event["span"]["request_id"], "json-trace-1", "{event}");
    assert_eq!(
        event["span"]["path"], "/api/members/login",
        "paths are logged normalised"
    );
    assert_eq!(event["fields"]["status"], 401);
    for line in &seen {
        assert!(
            !line.contains("Sup3r-Secret-Value") && !line.contains("who@example.com"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn seed_demo_fills_an_empty_database_once_and_leaves_other_data_alone() {
    let app = TestApp::spawn().await;
    let seed = |force: bool| {
        let mut command = openstudio(&app.state.config.database_url, app.data_dir.path());
        command.env("PUBLIC_URL", &app.base).arg("seed-demo");
        if force {
            command.arg("--force");
        }
        run(command)
    };
    let out = seed(false).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Seeded"));
    let artworks = app.scalar("SELECT COUNT(*) FROM artworks WHERE id > $1", 0).await;
    assert_eq!(artworks, 10);
    let statuses = app
        .scalar("SELECT COUNT(DISTINCT status) FROM orders WHERE id > $1", 0)
        .await;
    assert_eq!(statuses, 6, "an order in every state");
    let list = app.get("/api/artworks/", None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 10);
    let image = list.body[0]["artworks_images"][0].clone();
    assert!(image["thumbnail_url"].is_string(), "{image}");
    let served = app
        .client
        .get(image["image_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200, "the server serves the demo's own images");
    let login = app
        .post(
            "/api/members/login/",
            None,
            json!({"email": format!("june.collects@{}", openstudio::cli::demo::DOMAIN), "password": openstudio::cli::demo::PASSWORD}),
        )
        .await;
    login.assert_status(200);
    let purchases = app
        .get("/api/orders/purchase-requests/", login.body["token"].as_str())
        .await;
    assert!(!purchases.body.as_array().unwrap().is_empty());

    let again = seed(false).await;
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing changed"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM artworks WHERE id > $1", 0).await, 10);

    // A database with someone else's data is refused, unless forced.
    let other = TestApp::spawn().await;
    let artist = other.artist().await;
    other.artwork(&artist, 1).await;
    let seed_other = |force: bool| {
        let mut command = openstudio(&other.state.config.database_url, other.data_dir.path());
        command.env("PUBLIC_URL", &other.base).arg("seed-demo");
        if force {
            command.arg("--force");
        }
        run(command)
    };
    let refused = seed_other(false).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(other.scalar("SELECT COUNT(*) FROM artworks WHERE id > $1", 0).await, 1);
    let forced = seed_other(true).await;
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
    assert_eq!(other.scalar("SELECT COUNT(*) FROM artworks WHERE id > $1", 0).await, 11);
}

/// A 16-bit RGBA PNG of 7070 × 7070 pixels, a few hundred kilobytes on the wire and
/// 400 MB if decoded as it is; written a row at a time.
fn huge_16_bit_png() -> Vec<u8> {
    use std::io::Write;
    let side = 7070u32;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Sixteen);
    let mut writer = encoder.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    for y in 0..side {
        let row: Vec<u8> = (0..side as usize * 8)
            .map(|i| ((i / 8 + y as usize) % 251) as u8)
            .collect();
        stream.write_all(&row).unwrap();
    }
    stream.finish().unwrap();
    drop(writer);
    out
}

fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

#[tokio::test]
async fn huge_images_are_decoded_within_the_memory_budget() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let dir = tempfile::tempdir().unwrap();
    let budget = 320;
    let mut command = openstudio(&app.state.config.database_url, dir.path());
    command
        .env("IMAGE_MEMORY_BUDGET_MB", budget.to_string())
        .env("IMAGE_WORKERS", "2");
    let (mut child, base) = serve(command).await;
    let file = tokio::task::spawn_blocking(huge_16_bit_png).await.unwrap();
    let upload = |file: Vec<u8>| {
        let (client, base, token) = (app.client.clone(), base.clone(), artist.token.clone());
        async move {
            let part = reqwest::multipart::Part::bytes(file).file_name("huge.png");
            let res = client
                .post(format!("{base}/api/images/upload/"))
                .bearer_auth(token)
                .multipart(reqwest::multipart::Form::new().part("file", part))
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }
    };
    assert_eq!(upload(file.clone()).await, 201);
    let four = futures::future::join_all((0..4).map(|_| upload(file.clone()))).await;
    assert_eq!(four, vec![201; 4], "four at once take turns within the budget");
    let peak = peak_rss_mib(child.id());
    eprintln!("peak RSS {peak} MiB");
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
    assert!(peak < budget + 100, "peak RSS {peak} MiB, budget {budget} MiB");
}

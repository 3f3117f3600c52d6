//! Connections: a slow client cannot hold one forever, idle ones are closed, their
//! number is capped, and stopping the server waits a bounded time.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

fn limits(header: u64, idle: u64, max: usize) -> openstudio::server::ConnectionLimits {
    openstudio::server::ConnectionLimits {
        header_read_timeout: Duration::from_secs(header),
        idle_timeout: Duration::from_secs(idle),
        max_connections: max,
        shutdown_grace: Duration::from_secs(2),
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; false if it is still open after `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = vec![0; 4096];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let app = TestApp::spawn_with(|c| c.connections = limits(1, 60, 100)).await;
    let mut slow = connect(&app).await;
    slow.write_all(b"GET /api/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)).await,
        "closed after the header deadline"
    );
    // A client that sends nothing at all likewise.
    let mut silent = connect(&app).await;
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn idle_kept_alive_connections_are_closed() {
    let app = TestApp::spawn_with(|c| c.connections = limits(30, 1, 100)).await;
    let mut client = connect(&app).await;
    client
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0; 4096];
    let n = client.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert!(
        closed_within(&mut client, Duration::from_secs(5)).await,
        "closed once idle"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let app = TestApp::spawn_with(|c| c.connections = limits(30, 60, 2)).await;
    let held = [connect(&app).await, connect(&app).await];
    // Let the server take both.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let third = app.client.get(format!("{}/health/live", app.base)).send();
    let mut third = Box::pin(third);
    assert!(
        tokio::time::timeout(Duration::from_millis(700), &mut third)
            .await
            .is_err(),
        "not served while two connections are open"
    );
    drop(held);
    let res = tokio::time::timeout(Duration::from_secs(5), third)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn stopping_is_bounded_by_the_grace_period_not_by_slow_clients() {
    let database = crate::helpers::TestDatabase::new().await;
    let app = TestApp::spawn_on(database, |_| {}).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(openstudio::server::serve(
        listener,
        openstudio::app::app(app.state.clone()),
        limits(60, 60, 100),
        async {
            let _ = stopped.await;
        },
    ));
    let mut slowloris = TcpStream::connect(address).await.unwrap();
    slowloris.write_all(b"GET /api/ HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut idle = TcpStream::connect(address).await.unwrap();
    idle.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0; 1024];
    let _ = idle.read(&mut buf).await.unwrap();
    let started = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
    // The grace period (2 s) bounds it, not the 60 s header deadline.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(closed_within(&mut idle, Duration::from_secs(1)).await);
    assert!(TcpStream::connect(address).await.is_err(), "no longer accepting");
}

//! The HTTP ceiling of this machine: the project's own server loop (hyper, the same
//! connection handling) with one axum handler that answers a fixed body of BODY_BYTES
//! bytes and does nothing else. `bench/run.sh` loads it like every case and reports each
//! case as a share of it.
//!
//! Usage: PORT=18932 BODY_BYTES=1500 cargo run --release --example ceiling

use axum::body::Bytes;
use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(18932);
    let size: usize = std::env::var("BODY_BYTES")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(1500);
    let body = Bytes::from(vec![b'x'; size]);
    let app = Router::new().route(
        "/",
        get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let limits = openstudio::server::ConnectionLimits {
        header_read_timeout: std::time::Duration::from_secs(10),
        idle_timeout: std::time::Duration::from_secs(60),
        max_connections: 4096,
        shutdown_grace: std::time::Duration::from_secs(1),
    };
    openstudio::server::serve(listener, app, limits, std::future::pending()).await;
    Ok(())
}

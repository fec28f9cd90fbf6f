//! The ceiling of `scripts/load-test`: a bare axum handler that answers every `POST` with a fixed
//! body read from a file (the origin's own answer for one user, so the same size), served by
//! `axum::serve` on tokio's default runtime, with no middleware. What the origin serves beyond this
//! is what Pennon itself costs per request.
//!
//!   cargo run --release -p ceiling -- <body file>
//!
//! Prints `ceiling listening on http://ADDR` on stdout once bound (port from `PORT`, default 0).

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::routing::post;
use axum::Router;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: ceiling <file with the body to answer>")?;
    let body = Bytes::from(std::fs::read(&path).map_err(|err| format!("{path}: {err}"))?);
    let answer = move || {
        let body = body.clone();
        async move { ([(CONTENT_TYPE, "application/json")], body) }
    };
    let app = Router::new().fallback(post(answer));
    let port = std::env::var("PORT").unwrap_or_else(|_| "0".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("ceiling listening on http://{}", listener.local_addr()?);
    use std::io::Write as _;
    std::io::stdout().flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}

//! The floor the local API is compared with: axum with the workspace's
//! features on Tokio's default multi-threaded runtime, answering every
//! request with the same small JSON body. `FLOOR_ADDR` (default
//! 127.0.0.1:3001) is where it listens.

use axum::http::header;
use axum::response::IntoResponse;

const BODY: &str = r#"{"mobile":"13800000000","registered":false,"message":"ok"}"#;

async fn fixed() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], BODY)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("FLOOR_ADDR").unwrap_or_else(|_| "127.0.0.1:3001".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, axum::Router::new().fallback(fixed)).await
}

//! The local API: every route of the contract and the web pages on one
//! address, for development and for the tests. API requests become the same
//! `lambda_http::Request` a Lambda receives and are answered by the same
//! `signup::http::handle`; this crate only adds what API Gateway and a
//! static host would do in production: CORS, the client address, the pages.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State as AxumState};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use signup::config::{ConfigError, Env};
use signup::http::{Scope, MAX_BODY_BYTES};
use signup::{ApiError, State};

/// Settings of the local API alone; the service's own come from `signup::Settings`.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub addr: SocketAddr,
    /// Origins allowed to call the API from a browser; `*` allows any.
    pub cors_allowed_origins: Vec<String>,
    /// Take the client address from `X-Forwarded-For` (its last entry, the
    /// one our own proxy added) instead of the socket.
    pub trust_x_forwarded_for: bool,
    /// Create the DynamoDB table when it is missing (moto, DynamoDB Local).
    pub create_table: bool,
    pub web_dir: PathBuf,
}

impl LocalConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let env = Env(|var: &str| std::env::var(var).ok());
        let addr = env.string("LOCAL_API_ADDR", "127.0.0.1:3000");
        Ok(Self {
            addr: addr.parse().map_err(|_| ConfigError {
                var: "LOCAL_API_ADDR",
                reason: format!("{addr:?} is not an address like 127.0.0.1:3000"),
            })?,
            cors_allowed_origins: env
                .string("CORS_ALLOWED_ORIGINS", "")
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            trust_x_forwarded_for: env.flag("TRUST_X_FORWARDED_FOR", false)?,
            create_table: env.flag("CREATE_TABLE", false)?,
            web_dir: env
                .raw("WEB_DIR")
                .map_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web")), PathBuf::from),
        })
    }

    fn allows_origin(&self, origin: &str) -> bool {
        self.cors_allowed_origins.iter().any(|o| o == "*" || o == origin)
    }
}

pub struct App {
    pub state: State,
    pub config: LocalConfig,
}

pub fn router(app: Arc<App>) -> axum::Router {
    axum::Router::new().fallback(dispatch).with_state(app)
}

/// Serves until the listener fails or, when `shutdown` resolves, gracefully stops.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

async fn dispatch(
    AxumState(app): AxumState<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
) -> Response {
    let allowed_origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| app.config.allows_origin(o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let is_preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if is_preflight {
        preflight(allowed_origin.is_some())
    } else if let Some(page) = static_file(&app.config, req.method(), req.uri().path()).await {
        page
    } else {
        api(&app, peer, req).await
    };
    if let Some(origin) = allowed_origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Retry-After"));
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

fn preflight(allowed: bool) -> Response {
    if !allowed {
        // No CORS headers: the browser refuses the real request.
        return StatusCode::NO_CONTENT.into_response();
    }
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type, authorization"),
            (header::ACCESS_CONTROL_MAX_AGE, "600"),
        ],
    )
        .into_response()
}

fn client_ip(config: &LocalConfig, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    // Only the last entry was written by our own proxy; earlier ones are the
    // client's word. An unparseable last entry falls back to the socket.
    let forwarded = || {
        let last = headers.get_all("x-forwarded-for").iter().next_back()?.to_str().ok()?.rsplit(',').next()?;
        last.trim().parse::<IpAddr>().ok()
    };
    config.trust_x_forwarded_for.then(forwarded).flatten().unwrap_or(peer.ip())
}

async fn api(app: &App, peer: SocketAddr, req: axum::extract::Request) -> Response {
    let client_ip = client_ip(&app.config, peer, req.headers());
    let (parts, body) = req.into_parts();
    // One byte over the limit is enough to know the body is too large.
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES + 1).await {
        Ok(bytes) if bytes.is_empty() => lambda_http::Body::Empty,
        Ok(bytes) => lambda_http::Body::Binary(bytes.to_vec()),
        Err(_) => return into_axum(signup::http::error_response(&ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES })),
    };
    let response =
        signup::http::handle(&app.state, Scope::All, Some(client_ip), http::Request::from_parts(parts, body)).await;
    into_axum(response)
}

fn into_axum(response: signup::http::Response) -> Response {
    response
        .map(|body| match body {
            lambda_http::Body::Text(text) => axum::body::Body::from(text),
            lambda_http::Body::Binary(bytes) => axum::body::Body::from(bytes),
            _ => axum::body::Body::empty(),
        })
        .into_response()
}

/// The pages under `web/`: `/`, `/register`, `/login` and their assets.
async fn static_file(config: &LocalConfig, method: &Method, path: &str) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let relative = match path.trim_end_matches('/') {
        "" => "index.html",
        "/register" => "register.html",
        "/login" => "login.html",
        other => other.trim_start_matches('/'),
    };
    let safe = relative.split('/').all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\\'));
    if !safe || relative.starts_with("user/") {
        return None;
    }
    let content_type = match relative.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("ico") => "image/x-icon",
        _ => return None,
    };
    let bytes = tokio::fs::read(config.web_dir.join(relative)).await.ok()?;
    Some(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], bytes).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(trust: bool) -> LocalConfig {
        LocalConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            cors_allowed_origins: vec!["http://localhost:5173".into()],
            trust_x_forwarded_for: trust,
            create_table: false,
            web_dir: PathBuf::from("."),
        }
    }

    #[test]
    fn forwarded_for_is_ignored_unless_trusted_and_then_its_last_entry_is_used() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4, 203.0.113.9"));
        assert_eq!(client_ip(&config(false), peer, &headers), peer.ip());
        assert_eq!(client_ip(&config(true), peer, &headers), "203.0.113.9".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(&config(true), peer, &HeaderMap::new()), peer.ip());
        headers.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4, garbage"));
        assert_eq!(client_ip(&config(true), peer, &headers), peer.ip(), "never an entry the client wrote");
    }

    #[test]
    fn only_listed_origins_are_allowed() {
        assert!(config(false).allows_origin("http://localhost:5173"));
        assert!(!config(false).allows_origin("http://evil.example"));
    }
}

//! The local API: every route of the contract and the web pages on one
//! address, for development and for the tests. API requests become the same
//! `lambda_http::Request` a Lambda receives and are answered by the same
//! `signup::http::handle`; this crate only adds what API Gateway and a
//! static host would do in production: CORS, the client address, the pages.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use signup::config::{ConfigError, Env};
use signup::http::{AllRoutes, RequestError, MAX_BODY_BYTES};
use signup::Services;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

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
    pub services: Services,
    pub config: LocalConfig,
}

/// `/user/…` goes to the API; everything else is a page or an asset under
/// `web/`, and what is not there falls through to the API's JSON 404.
pub fn router(app: Arc<App>) -> axum::Router {
    let web = &app.config.web_dir;
    let api = any(api).with_state(app.clone());
    let pages = axum::Router::new()
        .route_service("/register", ServeFile::new(web.join("register.html")))
        .route_service("/register/", ServeFile::new(web.join("register.html")))
        .route_service("/login", ServeFile::new(web.join("login.html")))
        .route_service("/login/", ServeFile::new(web.join("login.html")))
        .fallback_service(ServeDir::new(web).call_fallback_on_method_not_allowed(true).fallback(api.clone()))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    axum::Router::new()
        .route("/user", api.clone())
        .route("/user/{*rest}", api)
        .merge(pages)
        .layer(cors(&app.config))
        .layer(axum::middleware::map_response(preflight_is_no_content))
}

fn cors(config: &LocalConfig) -> CorsLayer {
    let config = config.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin.to_str().is_ok_and(|origin| config.allows_origin(origin))
        }))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// A preflight has no body to give: 204, as API Gateway answers it.
async fn preflight_is_no_content(mut response: Response) -> Response {
    if response.status() == StatusCode::OK && response.headers().contains_key(header::ACCESS_CONTROL_ALLOW_METHODS) {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
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

fn client_ip(config: &LocalConfig, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    // Only the last entry was written by our own proxy; earlier ones are the
    // client's word. An unparseable last entry falls back to the socket.
    let forwarded = || {
        let last = headers.get_all("x-forwarded-for").iter().next_back()?.to_str().ok()?.rsplit(',').next()?;
        last.trim().parse::<IpAddr>().ok()
    };
    config.trust_x_forwarded_for.then(forwarded).flatten().unwrap_or(peer.ip())
}

async fn api(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
) -> Response {
    let client_ip = client_ip(&app.config, peer, req.headers());
    let (parts, body) = req.into_parts();
    // One byte over the limit is enough to know the body is too large.
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES + 1).await {
        Ok(bytes) if bytes.is_empty() => lambda_http::Body::Empty,
        Ok(bytes) => lambda_http::Body::Binary(bytes.to_vec()),
        Err(_) => {
            let too_large = RequestError::TooLarge { limit: MAX_BODY_BYTES };
            return into_axum(signup::http::error_response(&too_large));
        }
    };
    let request = http::Request::from_parts(parts, body);
    let handled = signup::http::handle::<AllRoutes>(&app.services, Some(client_ip), request);
    into_axum(signup::panics::guard(handled).await)
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

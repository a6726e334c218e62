//! The local API: every route of the contract and the web pages on one
//! address, for development and for the tests. API requests become the same
//! `lambda_http::Request` a Lambda receives and are answered by the same
//! `signup::http::handle`; this crate only adds what API Gateway and a
//! static host would do in production: CORS, the client address, the pages.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use signup::config::{ConfigError, Env};
use signup::http::{AllRoutes, RequestError, MAX_BODY_BYTES};
use signup::Services;
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

/// The pages: each a file under `web/`, and what is not there falls
/// through to the API's JSON 404.
fn pages(app: &Arc<App>) -> axum::Router {
    let web = &app.config.web_dir;
    let api = any(api_fallback).with_state(app.clone());
    axum::Router::new()
        .route_service("/register", ServeFile::new(web.join("register.html")))
        .route_service("/register/", ServeFile::new(web.join("register.html")))
        .route_service("/login", ServeFile::new(web.join("login.html")))
        .route_service("/login/", ServeFile::new(web.join("login.html")))
        .fallback_service(ServeDir::new(web).call_fallback_on_method_not_allowed(true).fallback(api))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
}

/// A path of the API: `/user` and everything under `/user/`.
fn is_api(path: &str) -> bool {
    path.strip_prefix("/user").is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The local API as one service per connection: a request to the API goes
/// straight to [`api`], any other to the pages' router, and every answer
/// gets its CORS headers from [`Cors`]. Through axum's router and
/// tower-http's CORS layer, as before, a send took 32 heap allocations
/// more (routing, cloning the stack of layers, building the CORS headers
/// anew) and about a sixth more CPU (issue 11).
#[derive(Clone)]
struct LocalApi {
    app: Arc<App>,
    pages: axum::Router,
    peer: SocketAddr,
}

impl tower_service::Service<axum::extract::Request> for LocalApi {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    /// Always ready: so is axum's `Router`, which `call` calls for the pages.
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: axum::extract::Request) -> Self::Future {
        let cors = Cors::of(&self.app.config, req.headers());
        if req.method() == Method::OPTIONS {
            return Box::pin(std::future::ready(Ok(cors.preflight())));
        }
        if is_api(req.uri().path()) {
            let (app, peer) = (self.app.clone(), self.peer);
            Box::pin(async move { Ok(cors.apply(api(&app, peer, req).await)) })
        } else {
            // What the pages' fallback to the API extracts.
            req.extensions_mut().insert(ConnectInfo(self.peer));
            let page = tower_service::Service::call(&mut self.pages, req);
            Box::pin(async move {
                let Ok(page) = page.await;
                Ok(cors.apply(page))
            })
        }
    }
}

/// Makes each connection's [`LocalApi`], knowing its peer.
#[derive(Clone)]
struct PerConnection {
    app: Arc<App>,
    pages: axum::Router,
}

impl tower_service::Service<axum::serve::IncomingStream<'_, tokio::net::TcpListener>> for PerConnection {
    type Response = LocalApi;
    type Error = Infallible;
    type Future = std::future::Ready<Result<LocalApi, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, incoming: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self::Future {
        let peer = *incoming.remote_addr();
        std::future::ready(Ok(LocalApi { app: self.app.clone(), pages: self.pages.clone(), peer }))
    }
}

/// CORS with the methods, headers, exposed header and max-age of
/// `template.yaml`'s `CorsConfiguration`, as tower-http's layer gave them
/// here before: the origins in `CORS_ALLOWED_ORIGINS` may call from a
/// browser (with `*`, any origin, echoed back, where API Gateway would
/// answer `*`), and read `Retry-After`. Every `OPTIONS` is a preflight,
/// answered here with 204.
struct Cors {
    /// The request's `Origin`, when it is allowed.
    allow_origin: Option<HeaderValue>,
}

impl Cors {
    const ALLOW_METHODS: HeaderValue = HeaderValue::from_static("GET,POST,OPTIONS");
    const ALLOW_HEADERS: HeaderValue = HeaderValue::from_static("content-type,authorization");
    const EXPOSE_HEADERS: HeaderValue = HeaderValue::from_static("retry-after");
    const MAX_AGE_SECONDS: HeaderValue = HeaderValue::from_static("600");
    /// An answer depends on these request headers: caches must not share it across them.
    const VARY: HeaderValue =
        HeaderValue::from_static("origin, access-control-request-method, access-control-request-headers");

    fn of(config: &LocalConfig, headers: &HeaderMap) -> Self {
        let allowed = |origin: &&HeaderValue| origin.to_str().is_ok_and(|origin| config.allows_origin(origin));
        Self { allow_origin: headers.get(header::ORIGIN).filter(allowed).cloned() }
    }

    fn preflight(self) -> Response {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, Self::ALLOW_METHODS);
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, Self::ALLOW_HEADERS);
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, Self::MAX_AGE_SECONDS);
        self.common(headers);
        response
    }

    fn apply(self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, Self::EXPOSE_HEADERS);
        self.common(headers);
        response
    }

    fn common(self, headers: &mut HeaderMap) {
        // Appended, as tower-http did: a `Vary` of the answer's own stays.
        headers.append(header::VARY, Self::VARY);
        if let Some(origin) = self.allow_origin {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
    }
}

/// Serves until the listener fails or, when `shutdown` resolves, gracefully stops.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let pages = pages(&app);
    axum::serve(listener, PerConnection { app, pages }).with_graceful_shutdown(shutdown).await
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

/// The API, where the pages' router falls through to it.
async fn api_fallback(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
) -> Response {
    api(&app, peer, req).await
}

async fn api(app: &App, peer: SocketAddr, req: axum::extract::Request) -> Response {
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
    fn the_api_is_user_and_every_path_under_it() {
        for api in ["/user", "/user/", "/user/sms/", "/user/mobile/13812345678/"] {
            assert!(is_api(api), "{api}");
        }
        for page in ["/", "/users", "/userx/sms", "/login", "/register/", "/js/user/x.js"] {
            assert!(!is_api(page), "{page}");
        }
    }

    fn request_from(origin: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_static(origin));
        headers
    }

    #[test]
    fn a_preflight_is_204_naming_the_origin_only_when_it_is_listed() {
        let listed = Cors::of(&config(false), &request_from("http://localhost:5173")).preflight();
        assert_eq!(listed.status(), StatusCode::NO_CONTENT);
        assert_eq!(listed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "http://localhost:5173");
        assert_eq!(listed.headers()[header::ACCESS_CONTROL_ALLOW_METHODS], "GET,POST,OPTIONS");
        assert_eq!(listed.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS], "content-type,authorization");
        assert_eq!(listed.headers()[header::ACCESS_CONTROL_MAX_AGE], "600");
        let other = Cors::of(&config(false), &request_from("http://evil.example")).preflight();
        assert_eq!(other.status(), StatusCode::NO_CONTENT);
        assert!(!other.headers().contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        assert!(other.headers()[header::VARY].to_str().unwrap().starts_with("origin"));
    }

    #[test]
    fn an_answer_exposes_retry_after_and_varies_by_origin_whoever_asks() {
        let answer = || StatusCode::TOO_MANY_REQUESTS.into_response();
        let listed = Cors::of(&config(false), &request_from("http://localhost:5173")).apply(answer());
        assert_eq!(listed.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(listed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "http://localhost:5173");
        assert_eq!(listed.headers()[header::ACCESS_CONTROL_EXPOSE_HEADERS], "retry-after");
        let mut compressed = answer();
        compressed.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        let both = Cors::of(&config(false), &HeaderMap::new()).apply(compressed);
        assert_eq!(both.headers().get_all(header::VARY).iter().count(), 2, "the answer's own Vary stays");
        for headers in [HeaderMap::new(), request_from("http://evil.example")] {
            let unlisted = Cors::of(&config(false), &headers).apply(answer());
            assert!(!unlisted.headers().contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
            assert!(unlisted.headers().contains_key(header::VARY));
        }
    }

    #[test]
    fn only_listed_origins_are_allowed() {
        assert!(config(false).allows_origin("http://localhost:5173"));
        assert!(!config(false).allows_origin("http://evil.example"));
    }
}

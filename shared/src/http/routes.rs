//! The route table: the one list that the local API, the Lambdas and the
//! route-set test (against template.yaml) all read.

use http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    CheckMobile,
    SendSms,
    Register,
    Login,
    LoginByCode,
    ResetPassword,
    Me,
}

impl Endpoint {
    /// The Lambda function (directory under `functions/`) that serves it.
    /// A reset consumes a code and hashes a password, as register does, so
    /// it shares register's privileges and memory; login by code and
    /// `/user/me` need the JWT key, which login already holds.
    pub fn function(self) -> &'static str {
        match self {
            Self::CheckMobile => "check-mobile",
            Self::SendSms => "send-sms",
            Self::Register | Self::ResetPassword => "register",
            Self::Login | Self::LoginByCode | Self::Me => "login",
        }
    }
}

/// The routes a deployable serves, fixed when it is compiled: each Lambda
/// function is a `Scope` naming its own endpoints, the local API
/// [`AllRoutes`]. `crate::http::handle` is generic over it, so in a
/// function's binary the other use cases are dead code and are not linked
/// (issue 11: lean functions), and their routes answer 404.
pub trait Scope: Send + Sync + 'static {
    const ENDPOINTS: &'static [Endpoint];
}

/// Whether `S` serves `endpoint`: a constant for each `S`.
pub(crate) const fn serves<S: Scope>(endpoint: Endpoint) -> bool {
    let mut i = 0;
    while i < S::ENDPOINTS.len() {
        if S::ENDPOINTS[i] as u8 == endpoint as u8 {
            return true;
        }
        i += 1;
    }
    false
}

/// Every route: the local API.
pub struct AllRoutes;

impl Scope for AllRoutes {
    const ENDPOINTS: &'static [Endpoint] = &[
        Endpoint::CheckMobile,
        Endpoint::SendSms,
        Endpoint::Register,
        Endpoint::Login,
        Endpoint::LoginByCode,
        Endpoint::ResetPassword,
        Endpoint::Me,
    ];
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    /// With `{mobile}` for the one path parameter, as API Gateway writes it.
    pub pattern: &'static str,
    pub endpoint: Endpoint,
}

pub const ROUTES: &[Route] = &[
    Route { method: "GET", pattern: "/user/mobile/{mobile}", endpoint: Endpoint::CheckMobile },
    Route { method: "POST", pattern: "/user/sms", endpoint: Endpoint::SendSms },
    // The original client's way of asking for a code.
    Route { method: "GET", pattern: "/user/sms/{mobile}", endpoint: Endpoint::SendSms },
    Route { method: "POST", pattern: "/user/register", endpoint: Endpoint::Register },
    Route { method: "POST", pattern: "/user/login", endpoint: Endpoint::Login },
    Route { method: "POST", pattern: "/user/login/sms", endpoint: Endpoint::LoginByCode },
    Route { method: "POST", pattern: "/user/password/reset", endpoint: Endpoint::ResetPassword },
    Route { method: "GET", pattern: "/user/me", endpoint: Endpoint::Me },
];

/// Where a matched route's input is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    /// The `{mobile}` segment of the path, percent-decoded.
    PathMobile(String),
    /// The JSON body.
    Body,
    /// Nothing beyond the headers (a GET without a path parameter).
    Nothing,
}

#[derive(Debug)]
pub(crate) struct Matched {
    pub route: &'static Route,
    pub input: Input,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("no route has this path")]
    NotFound,
    #[error("the path exists, not with this method")]
    MethodNotAllowed {
        /// The methods the path takes, in the route table's order.
        allow: String,
    },
}

/// How `path` fits `pattern`, if it does.
fn fit(pattern: &str, path: &str) -> Option<Input> {
    match pattern.strip_suffix("{mobile}") {
        Some(prefix) => {
            let segment = path.strip_prefix(prefix)?;
            if segment.is_empty() || segment.contains('/') {
                return None;
            }
            // An undecodable segment still names the route; parsing rejects it as a mobile.
            let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
            Some(Input::PathMobile(decoded.into_owned()))
        }
        None => (pattern == path).then_some(Input::Body),
    }
}

pub(crate) fn match_route(method: &Method, path: &str) -> Result<Matched, RouteError> {
    // The original client sends a trailing slash; accept one everywhere.
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => path,
    };
    let mut allow: Vec<&'static str> = Vec::new();
    for route in ROUTES {
        if let Some(input) = fit(route.pattern, path) {
            if route.method == method.as_str() {
                let input = match (input, route.method) {
                    (Input::Body, "GET") => Input::Nothing,
                    (input, _) => input,
                };
                return Ok(Matched { route, input });
            }
            if !allow.contains(&route.method) {
                allow.push(route.method);
            }
        }
    }
    match allow.is_empty() {
        true => Err(RouteError::NotFound),
        false => Err(RouteError::MethodNotAllowed { allow: allow.join(", ") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(method: Method, path: &str) -> Result<(Endpoint, Input), RouteError> {
        match_route(&method, path).map(|m| (m.route.endpoint, m.input))
    }

    fn mobile(raw: &str) -> Input {
        Input::PathMobile(raw.into())
    }

    #[test]
    fn every_route_matches_with_and_without_a_trailing_slash() {
        assert_eq!(endpoint(Method::POST, "/user/sms"), Ok((Endpoint::SendSms, Input::Body)));
        assert_eq!(endpoint(Method::POST, "/user/sms/"), Ok((Endpoint::SendSms, Input::Body)));
        assert_eq!(endpoint(Method::POST, "/user/register/"), Ok((Endpoint::Register, Input::Body)));
        assert_eq!(endpoint(Method::POST, "/user/login/"), Ok((Endpoint::Login, Input::Body)));
        assert_eq!(
            endpoint(Method::GET, "/user/mobile/13812345678/"),
            Ok((Endpoint::CheckMobile, mobile("13812345678")))
        );
        assert_eq!(endpoint(Method::GET, "/user/sms/13812345678"), Ok((Endpoint::SendSms, mobile("13812345678"))));
    }

    #[test]
    fn the_mobile_segment_is_percent_decoded() {
        assert_eq!(
            endpoint(Method::GET, "/user/mobile/%2B86%20138-1234-5678"),
            Ok((Endpoint::CheckMobile, mobile("+86 138-1234-5678")))
        );
    }

    #[test]
    fn unknown_paths_are_not_found_and_wrong_methods_are_not_allowed() {
        assert_eq!(endpoint(Method::GET, "/user/nothing"), Err(RouteError::NotFound));
        assert_eq!(endpoint(Method::GET, "/user/mobile/"), Err(RouteError::NotFound));
        assert_eq!(endpoint(Method::GET, "/user/mobile/1/2"), Err(RouteError::NotFound));
        let not_allowed = |allow: &str| Err(RouteError::MethodNotAllowed { allow: allow.into() });
        assert_eq!(endpoint(Method::GET, "/user/register"), not_allowed("POST"));
        assert_eq!(endpoint(Method::DELETE, "/user/mobile/13812345678"), not_allowed("GET"));
    }

    #[test]
    fn allow_lists_every_method_the_path_takes_from_the_table() {
        // `/user/sms` (POST) is a different path from `/user/sms/{mobile}` (GET).
        assert_eq!(
            endpoint(Method::DELETE, "/user/sms/13812345678"),
            Err(RouteError::MethodNotAllowed { allow: "GET".into() })
        );
        assert_eq!(endpoint(Method::PUT, "/user/sms"), Err(RouteError::MethodNotAllowed { allow: "POST".into() }));
    }
}

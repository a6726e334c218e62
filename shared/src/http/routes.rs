//! The route table: the one list that the local API, the Lambdas and the
//! route-set test (against template.yaml) all read.

use http::Method;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    CheckMobile,
    SendSms,
    Register,
    Login,
}

impl Endpoint {
    /// The Lambda function (directory under `functions/`) that serves it.
    pub fn function(self) -> &'static str {
        match self {
            Self::CheckMobile => "check-mobile",
            Self::SendSms => "send-sms",
            Self::Register => "register",
            Self::Login => "login",
        }
    }
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
];

pub(crate) struct Match {
    pub route: &'static Route,
    pub endpoint: Endpoint,
    /// The `{mobile}` segment, percent-decoded.
    pub path_mobile: Option<String>,
}

/// The value of `{mobile}` if `path` fits `pattern`.
fn fit(pattern: &str, path: &str) -> Option<Option<String>> {
    match pattern.strip_suffix("{mobile}") {
        Some(prefix) => {
            let segment = path.strip_prefix(prefix)?;
            if segment.is_empty() || segment.contains('/') {
                return None;
            }
            // An undecodable segment still names the route; parsing rejects it as a mobile.
            let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
            Some(Some(decoded.into_owned()))
        }
        None => (pattern == path).then_some(None),
    }
}

pub(crate) fn match_route(method: &Method, path: &str) -> Result<Match, ApiError> {
    // The original client sends a trailing slash; accept one everywhere.
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => path,
    };
    let mut allowed: Vec<&'static str> = Vec::new();
    for route in ROUTES {
        if let Some(path_mobile) = fit(route.pattern, path) {
            if route.method == method.as_str() {
                return Ok(Match { route, endpoint: route.endpoint, path_mobile });
            }
            allowed.push(route.method);
        }
    }
    match allowed.first() {
        Some(_) if allowed.contains(&"GET") && allowed.contains(&"POST") => {
            Err(ApiError::MethodNotAllowed { allow: "GET, POST" })
        }
        Some(first) => Err(ApiError::MethodNotAllowed { allow: first }),
        None => Err(ApiError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(method: Method, path: &str) -> Result<(Endpoint, Option<String>), &'static str> {
        match_route(&method, path).map(|m| (m.endpoint, m.path_mobile)).map_err(|e| e.code())
    }

    #[test]
    fn every_route_matches_with_and_without_a_trailing_slash() {
        assert_eq!(endpoint(Method::POST, "/user/sms"), Ok((Endpoint::SendSms, None)));
        assert_eq!(endpoint(Method::POST, "/user/sms/"), Ok((Endpoint::SendSms, None)));
        assert_eq!(endpoint(Method::POST, "/user/register/"), Ok((Endpoint::Register, None)));
        assert_eq!(endpoint(Method::POST, "/user/login/"), Ok((Endpoint::Login, None)));
        assert_eq!(
            endpoint(Method::GET, "/user/mobile/13812345678/"),
            Ok((Endpoint::CheckMobile, Some("13812345678".into())))
        );
        assert_eq!(endpoint(Method::GET, "/user/sms/13812345678"), Ok((Endpoint::SendSms, Some("13812345678".into()))));
    }

    #[test]
    fn the_mobile_segment_is_percent_decoded() {
        assert_eq!(
            endpoint(Method::GET, "/user/mobile/%2B86%20138-1234-5678"),
            Ok((Endpoint::CheckMobile, Some("+86 138-1234-5678".into())))
        );
    }

    #[test]
    fn unknown_paths_are_not_found_and_wrong_methods_are_not_allowed() {
        assert_eq!(endpoint(Method::GET, "/user/nothing"), Err("not_found"));
        assert_eq!(endpoint(Method::GET, "/user/mobile/"), Err("not_found"));
        assert_eq!(endpoint(Method::GET, "/user/mobile/1/2"), Err("not_found"));
        assert_eq!(endpoint(Method::GET, "/user/register"), Err("method_not_allowed"));
        assert_eq!(endpoint(Method::DELETE, "/user/sms/13812345678"), Err("method_not_allowed"));
    }
}

//! Request input: a JSON object read field by field, so that a missing or
//! mistyped field is reported by name, and the path parameter read the
//! same way.

use lambda_http::Body;
use serde_json::{Map, Value};

use super::routes::Input;
use super::MAX_BODY_BYTES;

/// Why a request's input could not be read; the fields are named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is not a JSON object")]
    NotAnObject,
    #[error("field {0} is missing")]
    Missing(&'static str),
    #[error("field {0} is not a string")]
    NotAString(&'static str),
    #[error("the body is over {limit} bytes")]
    TooLarge { limit: usize },
}

impl RequestError {
    /// The input field at fault, when one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Missing(field) | Self::NotAString(field) => Some(field),
            Self::NotJson(_) | Self::NotAnObject | Self::TooLarge { .. } => None,
        }
    }
}

pub(crate) struct JsonBody(Map<String, Value>);

impl JsonBody {
    pub fn parse(body: &Body) -> Result<Self, RequestError> {
        let bytes: &[u8] = match body {
            Body::Empty => b"",
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => b"",
        };
        if bytes.len() > MAX_BODY_BYTES {
            return Err(RequestError::TooLarge { limit: MAX_BODY_BYTES });
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(RequestError::NotAnObject),
            Err(e) => Err(RequestError::NotJson(e.to_string())),
        }
    }

    /// `None` when absent or null; an error when present but not a string.
    pub fn optional_str(&self, field: &'static str) -> Result<Option<&str>, RequestError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(RequestError::NotAString(field)),
        }
    }
}

/// A matched route's input, read as named fields whether it came in the
/// path (`{mobile}` is the field `mobile`) or in the JSON body.
pub(crate) enum Fields {
    Path { mobile: String },
    Json(JsonBody),
}

impl Fields {
    pub fn read(input: Input, body: &Body) -> Result<Self, RequestError> {
        match input {
            Input::PathMobile(mobile) => Ok(Self::Path { mobile }),
            Input::Body => JsonBody::parse(body).map(Self::Json),
        }
    }

    pub fn optional_str(&self, field: &'static str) -> Result<Option<&str>, RequestError> {
        match self {
            Self::Path { mobile } => Ok((field == "mobile").then_some(mobile.as_str())),
            Self::Json(body) => body.optional_str(field),
        }
    }

    pub fn required_str(&self, field: &'static str) -> Result<&str, RequestError> {
        self.optional_str(field)?.ok_or(RequestError::Missing(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(body: &str, field: &'static str) -> RequestError {
        JsonBody::parse(&Body::Text(body.into())).and_then(|b| Fields::Json(b).required_str(field).map(drop)).unwrap_err()
    }

    #[test]
    fn malformed_json_or_a_non_object_is_refused_without_a_field() {
        assert!(matches!(error("{", "mobile"), RequestError::NotJson(_)));
        assert_eq!(error("[]", "mobile"), RequestError::NotAnObject);
        assert!(matches!(error("", "mobile"), RequestError::NotJson(_)));
        assert_eq!(error("[]", "mobile").field(), None);
    }

    #[test]
    fn a_missing_or_mistyped_field_is_named() {
        assert_eq!(error("{}", "mobile"), RequestError::Missing("mobile"));
        assert_eq!(error(r#"{"mobile": 13812345678}"#, "mobile"), RequestError::NotAString("mobile"));
        assert_eq!(error("{}", "mobile").field(), Some("mobile"));
    }

    #[test]
    fn a_body_over_the_limit_is_refused() {
        let big = format!(r#"{{"mobile":"{}"}}"#, "1".repeat(MAX_BODY_BYTES));
        assert_eq!(error(&big, "mobile"), RequestError::TooLarge { limit: MAX_BODY_BYTES });
    }

    #[test]
    fn the_path_segment_reads_as_the_mobile_field_only() {
        let fields = Fields::Path { mobile: "13812345678".into() };
        assert_eq!(fields.required_str("mobile"), Ok("13812345678"));
        assert_eq!(fields.required_str("password"), Err(RequestError::Missing("password")));
    }
}

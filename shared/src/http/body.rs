//! Request bodies: a JSON object, read field by field so that a missing or
//! mistyped field is reported by name.

use lambda_http::Body;
use serde_json::{Map, Value};

use super::MAX_BODY_BYTES;
use crate::error::ApiError;

pub(crate) struct JsonBody(Map<String, Value>);

pub(crate) fn missing(field: &'static str) -> ApiError {
    ApiError::InvalidRequest { detail: format!("缺少字段 {field}"), field: Some(field) }
}

impl JsonBody {
    pub fn parse(body: &Body) -> Result<Self, ApiError> {
        let bytes: &[u8] = match body {
            Body::Empty => b"",
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => b"",
        };
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES });
        }
        let not_object = || ApiError::InvalidRequest { detail: "请求体必须是JSON对象".into(), field: None };
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(not_object()),
            Err(e) => Err(ApiError::InvalidRequest { detail: format!("JSON格式错误（{e}）"), field: None }),
        }
    }

    /// `None` when absent or null; an error when present but not a string.
    pub fn optional_str(&self, field: &'static str) -> Result<Option<&str>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::InvalidRequest {
                detail: format!("字段 {field} 必须是字符串"),
                field: Some(field),
            }),
        }
    }

    pub fn required_str(&self, field: &'static str) -> Result<&str, ApiError> {
        self.optional_str(field)?.ok_or_else(|| missing(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_and_field(body: &str, field: &'static str) -> (&'static str, Option<&'static str>) {
        let e = JsonBody::parse(&Body::Text(body.into())).and_then(|b| b.required_str(field).map(drop)).unwrap_err();
        (e.code(), e.field())
    }

    #[test]
    fn malformed_json_or_a_non_object_is_an_invalid_request() {
        assert_eq!(code_and_field("{", "mobile"), ("invalid_request", None));
        assert_eq!(code_and_field("[]", "mobile"), ("invalid_request", None));
        assert_eq!(code_and_field("", "mobile"), ("invalid_request", None));
    }

    #[test]
    fn a_missing_or_mistyped_field_is_named() {
        assert_eq!(code_and_field("{}", "mobile"), ("invalid_request", Some("mobile")));
        assert_eq!(code_and_field(r#"{"mobile": 13812345678}"#, "mobile"), ("invalid_request", Some("mobile")));
    }

    #[test]
    fn a_body_over_the_limit_is_refused() {
        let big = format!(r#"{{"mobile":"{}"}}"#, "1".repeat(MAX_BODY_BYTES));
        assert_eq!(code_and_field(&big, "mobile").0, "payload_too_large");
    }
}

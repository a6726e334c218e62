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
    #[error("field {0} is not an object with the expected string fields")]
    BadObject(&'static str),
    #[error("the body is not sent as application/json")]
    UnsupportedMediaType,
    #[error("the body is marked base64 and is not base64")]
    NotBase64,
    #[error("the body is over {limit} bytes")]
    TooLarge { limit: usize },
}

impl RequestError {
    /// The input field at fault, when one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Missing(field) | Self::NotAString(field) | Self::BadObject(field) => Some(field),
            Self::NotJson(_)
            | Self::NotAnObject
            | Self::TooLarge { .. }
            | Self::UnsupportedMediaType
            | Self::NotBase64 => None,
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
        match serde_json::from_slice::<Strict>(bytes) {
            Ok(Strict(Value::Object(map))) => Ok(Self(map)),
            Ok(_) => Err(RequestError::NotAnObject),
            Err(e) => Err(RequestError::NotJson(e.to_string())),
        }
    }

    /// `None` when absent; an error when present but not a string (`null`
    /// included: the description says string, and a field is either sent or not).
    pub fn optional_str(&self, field: &'static str) -> Result<Option<&str>, RequestError> {
        match self.0.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(RequestError::NotAString(field)),
        }
    }

    /// An object field whose members `names` are all strings, in that
    /// order; `None` when the field is absent.
    pub fn optional_strings<const N: usize>(
        &self,
        field: &'static str,
        names: [&str; N],
    ) -> Result<Option<[String; N]>, RequestError> {
        let object = match self.0.get(field) {
            None => return Ok(None),
            Some(Value::Object(object)) => object,
            Some(_) => return Err(RequestError::BadObject(field)),
        };
        let mut values = names.map(|_| String::new());
        for (value, name) in values.iter_mut().zip(names) {
            match object.get(name) {
                Some(Value::String(s)) => value.clone_from(s),
                _ => return Err(RequestError::BadObject(field)),
            }
        }
        Ok(Some(values))
    }
}

/// Whether the request says its body is JSON (`application/json`, any
/// parameters, any case). Only such a body is read: every cross-site POST
/// then needs a CORS preflight, which the allow-list refuses.
pub(crate) fn is_json(headers: &http::HeaderMap) -> bool {
    let Some(value) = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let media_type = value.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case("application/json")
}

/// A JSON value in which no object repeats a key. With a repeated key, a
/// proxy or a WAF in front may read one value and the service another, so
/// such a body is refused rather than read last-wins.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("key {key:?} appears twice")));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A matched route's input, read as named fields whether it came in the
/// path (`{mobile}` is the field `mobile`) or in the JSON body.
pub(crate) enum Fields {
    Path { mobile: String },
    Json(JsonBody),
    None,
}

impl Fields {
    pub fn read(input: Input, headers: &http::HeaderMap, body: &Body) -> Result<Self, RequestError> {
        match input {
            Input::PathMobile(mobile) => Ok(Self::Path { mobile }),
            Input::Nothing => Ok(Self::None),
            Input::Body if !is_json(headers) => Err(RequestError::UnsupportedMediaType),
            Input::Body => JsonBody::parse(body).map(Self::Json),
        }
    }

    pub fn optional_strings<const N: usize>(
        &self,
        field: &'static str,
        names: [&str; N],
    ) -> Result<Option<[String; N]>, RequestError> {
        match self {
            Self::Path { .. } | Self::None => Ok(None),
            Self::Json(body) => body.optional_strings(field, names),
        }
    }

    pub fn optional_str(&self, field: &'static str) -> Result<Option<&str>, RequestError> {
        match self {
            Self::Path { mobile } => Ok((field == "mobile").then_some(mobile.as_str())),
            Self::Json(body) => body.optional_str(field),
            Self::None => Ok(None),
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
        JsonBody::parse(&Body::Text(body.into()))
            .and_then(|b| Fields::Json(b).required_str(field).map(drop))
            .unwrap_err()
    }

    #[test]
    fn malformed_json_or_a_non_object_is_refused_without_a_field() {
        assert!(matches!(error("{", "mobile"), RequestError::NotJson(_)));
        assert_eq!(error("[]", "mobile"), RequestError::NotAnObject);
        assert!(matches!(error("", "mobile"), RequestError::NotJson(_)));
        assert_eq!(error("[]", "mobile").field(), None);
    }

    #[test]
    fn a_key_twice_in_any_object_is_refused() {
        assert!(
            matches!(error(r#"{"mobile":"1","mobile":"2"}"#, "mobile"), RequestError::NotJson(e) if e.contains("twice"))
        );
        assert!(matches!(error(r#"{"captcha":{"token":"a","token":"b"}}"#, "mobile"), RequestError::NotJson(_)));
        assert_eq!(error(r#"{"a":{"mobile":"1"},"mobile":2}"#, "mobile"), RequestError::NotAString("mobile"));
    }

    #[test]
    fn a_missing_or_mistyped_field_is_named() {
        assert_eq!(error("{}", "mobile"), RequestError::Missing("mobile"));
        assert_eq!(error(r#"{"mobile": 13812345678}"#, "mobile"), RequestError::NotAString("mobile"));
        assert_eq!(error("{}", "mobile").field(), Some("mobile"));
        assert_eq!(error(r#"{"mobile": null}"#, "mobile"), RequestError::NotAString("mobile"));
    }

    #[test]
    fn a_body_over_the_limit_is_refused() {
        let big = format!(r#"{{"mobile":"{}"}}"#, "1".repeat(MAX_BODY_BYTES));
        assert_eq!(error(&big, "mobile"), RequestError::TooLarge { limit: MAX_BODY_BYTES });
    }

    #[test]
    fn only_a_json_content_type_is_read() {
        let headers = |value: &'static str| {
            let mut h = http::HeaderMap::new();
            h.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(value));
            h
        };
        assert!(is_json(&headers("application/json")));
        assert!(is_json(&headers("Application/JSON; charset=UTF-8")));
        for other in
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp"]
        {
            assert!(!is_json(&headers(other)), "{other}");
        }
        assert!(!is_json(&http::HeaderMap::new()));
    }

    #[test]
    fn an_object_of_strings_is_read_in_order_and_anything_else_is_refused() {
        let body = |text: &str| JsonBody::parse(&Body::Text(text.into())).unwrap();
        let read = |text: &str| body(text).optional_strings("captcha", ["a", "b"]);
        assert_eq!(read(r#"{"captcha":{"b":"2","a":"1"}}"#), Ok(Some(["1".to_owned(), "2".to_owned()])));
        assert_eq!(read("{}"), Ok(None));
        assert_eq!(read(r#"{"captcha":{"a":"1"}}"#), Err(RequestError::BadObject("captcha")));
        assert_eq!(read(r#"{"captcha":"x"}"#), Err(RequestError::BadObject("captcha")));
    }

    #[test]
    fn the_path_segment_reads_as_the_mobile_field_only() {
        let fields = Fields::Path { mobile: "13812345678".into() };
        assert_eq!(fields.required_str("mobile"), Ok("13812345678"));
        assert_eq!(fields.required_str("password"), Err(RequestError::Missing("password")));
    }
}

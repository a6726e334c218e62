//! Property tests: the parsers of `signup::domain` on any input, and the
//! POST routes of the in-process local API on any body.
//!
//! Parsers: no panic on any string (Unicode included), a parsed value parses
//! back to itself from its own text, and every accepted decoration of a
//! valid number is the same number. Routes: arbitrary bytes and arbitrary
//! JSON never get a 5xx, and every refusal is a JSON error with a `code`.

use integration_tests::api::TestApi;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use signup::domain::{Mobile, Password, PasswordPolicy, SmsCode};
use signup::http::ROUTES;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Strings near the valid space: digits (ASCII and full-width), the
/// accepted decorations, and look-alikes of them.
fn near_mobile() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            8 => proptest::char::range('0', '9'),
            2 => Just(' '),
            2 => Just('-'),
            1 => Just('+'),
            1 => proptest::char::range('０', '９'),
            1 => prop::sample::select(vec!['\u{3000}', '\u{2010}', '\u{ff0b}', '\t', '\n', '\0', 'ー', '٣']),
        ],
        0..20,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// A valid mobile in its plain 11-digit form.
fn plain_mobile() -> impl Strategy<Value = String> {
    "1[3-9][0-9]{9}"
}

/// `plain` with a prefix and spaces or hyphens sprinkled between its digits.
fn decorated(plain: String) -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec!["", "+86", "0086", "+86 ", "0086-", " +86-", "+ 8 6"]);
    let gaps = proptest::collection::vec(prop::sample::select(vec!["", "", "", " ", "-", "  ", " - "]), 12);
    (prefix, gaps).prop_map(move |(prefix, gaps)| {
        let mut out = String::from(prefix);
        for (digit, gap) in plain.chars().zip(&gaps) {
            out.push(digit);
            out.push_str(gap);
        }
        out.push_str(gaps[11]);
        out
    })
}

fn full_width(ascii_digits: &str) -> String {
    ascii_digits.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()).collect()
}

proptest! {
    #![proptest_config(config(2_000))]

    #[test]
    fn mobile_parse_never_panics_and_its_value_parses_back_to_itself(raw in prop_oneof![any::<String>(), near_mobile()]) {
        if let Ok(mobile) = Mobile::parse(&raw) {
            prop_assert_eq!(mobile.as_str().len(), 11);
            prop_assert_eq!(Mobile::parse(mobile.as_str()), Ok(mobile.clone()));
            // The derived forms never panic either.
            prop_assert_eq!(mobile.masked().chars().filter(|c| *c == '*').count(), 4);
            prop_assert_eq!(mobile.e164(), format!("+86{}", mobile.as_str()));
        }
    }

    #[test]
    fn every_decoration_of_a_valid_mobile_is_the_same_mobile(
        (plain, raw) in plain_mobile().prop_flat_map(|plain| (Just(plain.clone()), decorated(plain)))
    ) {
        prop_assert_eq!(Mobile::parse(&raw).map(|m| m.as_str().to_owned()), Ok(plain));
    }

    #[test]
    fn full_width_digits_never_make_a_mobile(plain in plain_mobile(), at in 0usize..11) {
        let mut chars: Vec<char> = plain.chars().collect();
        chars[at] = full_width(&chars[at].to_string()).chars().next().unwrap();
        let raw: String = chars.into_iter().collect();
        prop_assert!(Mobile::parse(&raw).is_err(), "{raw}");
        prop_assert!(Mobile::parse(&full_width(&plain)).is_err());
    }

    #[test]
    fn password_parse_never_panics_and_accepts_exactly_the_lengths_of_the_policy(
        raw in any::<String>(),
        min_len in 1usize..40,
        extra in 0usize..40,
    ) {
        let policy = PasswordPolicy { min_len, max_len: min_len + extra };
        let chars = raw.chars().count();
        match Password::parse(&raw, policy) {
            Ok(password) => {
                prop_assert!((policy.min_len..=policy.max_len).contains(&chars));
                prop_assert_eq!(password.expose(), raw.as_str());
                prop_assert_eq!(Password::parse(password.expose(), policy), Ok(password.clone()));
            }
            Err(_) => prop_assert!(!(policy.min_len..=policy.max_len).contains(&chars)),
        }
    }

    #[test]
    fn sms_code_parse_never_panics_and_its_value_parses_back_to_itself(
        raw in prop_oneof![any::<String>(), "[ \t0-9０-９a]{0,12}"],
        len in 4usize..=8,
    ) {
        if let Ok(code) = SmsCode::parse(&raw, len) {
            prop_assert_eq!(code.expose().len(), len);
            prop_assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(SmsCode::parse(code.expose(), len), Ok(code.clone()));
        }
    }

    #[test]
    fn an_sms_code_is_its_ascii_digits_whatever_the_surrounding_spaces(
        digits in "[0-9]{4,8}",
        before in "[ \t]{0,3}",
        after in "[ \t]{0,3}",
    ) {
        let raw = format!("{before}{digits}{after}");
        let parsed = SmsCode::parse(&raw, digits.len()).map(|c| c.expose().to_owned());
        prop_assert_eq!(parsed, Ok(digits.clone()));
        prop_assert!(SmsCode::parse(&full_width(&digits), digits.len()).is_err());
    }
}

const FIELDS: [&str; 8] = ["mobile", "password", "password2", "sms_code", "username", "purpose", "captcha", "token"];

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        near_mobile().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON object with the routes' own field names, holding any JSON values.
fn json_body() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(prop::sample::select(FIELDS.to_vec()), json_value(), 0..6)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// Posts each body of `strategy` to each POST route; every answer must be
/// below 500, and every refusal a JSON error with a string `code`.
fn post_anything<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, to_bytes: impl Fn(&T) -> Vec<u8>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = runtime.block_on(TestApi::memory());
    for route in ROUTES.iter().filter(|r| r.method == "POST").map(|r| r.pattern) {
        let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
        runner
            .run(&strategy, |input| {
                let reply = runtime.block_on(api.post_raw(route, to_bytes(&input)));
                prop_assert!(reply.status < 500, "POST {route} {input:?} answered {} {}", reply.status, reply.body);
                if reply.status >= 400 {
                    prop_assert!(reply.body["code"].is_string(), "POST {route} {input:?}: {}", reply.body);
                    prop_assert!(reply.body["message"].is_string(), "POST {route} {input:?}: {}", reply.body);
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("POST {route}: {e}"));
    }
}

#[test]
fn arbitrary_bytes_posted_to_any_route_never_get_a_5xx_and_every_refusal_has_a_code() {
    post_anything(proptest::collection::vec(any::<u8>(), 0..512), Clone::clone);
}

#[test]
fn arbitrary_json_posted_to_any_route_never_gets_a_5xx_and_every_refusal_has_a_code() {
    post_anything(json_value(), |v| serde_json::to_vec(v).unwrap());
}

#[test]
fn objects_with_the_routes_field_names_never_get_a_5xx_and_every_refusal_has_a_code() {
    post_anything(json_body(), |v| serde_json::to_vec(v).unwrap());
}

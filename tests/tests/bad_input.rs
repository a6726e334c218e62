//! Hostile input that generators rarely produce, against the in-process
//! local API: each case gets its documented status and `code`, and nothing
//! is consumed or texted by a request that is refused.

use std::time::{Duration, Instant};

use integration_tests::api::{Reply, TestApi};
use serde_json::json;
use signup::http::ROUTES;

const MOBILE: &str = "13812345678";
const PASSWORD: &str = "password123";

/// Every POST route of the table (the list grows with the code's).
fn post_routes() -> Vec<&'static str> {
    ROUTES.iter().filter(|r| r.method == "POST").map(|r| r.pattern).collect()
}

fn full_width(ascii: &str) -> String {
    ascii
        .chars()
        .map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap() } else { c })
        .collect()
}

fn assert_nothing_sent(api: &TestApi) {
    assert!(api.sms.attempted().is_empty(), "no SMS may be asked for: {:?}", api.sms.attempted());
}

/// The headers any API answer may carry; an injected header would be none of these.
fn assert_only_our_headers(reply: &Reply, what: &str) {
    const OURS: [&str; 8] =
        ["content-type", "cache-control", "content-length", "date", "retry-after", "allow", "vary", "connection"];
    for (name, value) in &reply.headers {
        let name = name.as_str();
        assert!(OURS.contains(&name) || name.starts_with("access-control-"), "{what}: unexpected header {name}");
        let value = String::from_utf8_lossy(value.as_bytes());
        assert!(!value.contains("injected") && !value.contains("a=b"), "{what}: {name}: {value}");
    }
    assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"), "{what}");
}

#[tokio::test]
async fn a_1_mib_body_is_413_payload_too_large_on_every_post_route() {
    let api = TestApi::memory().await;
    let body = format!(r#"{{"mobile":"{MOBILE}","padding":"{}"}}"#, "x".repeat(1 << 20));
    for route in post_routes() {
        assert_eq!(api.post_raw(route, body.clone()).await.outcome(), (413, "payload_too_large"), "{route}");
    }
    assert_nothing_sent(&api);
}

#[tokio::test]
async fn json_nested_past_the_parser_limit_is_400_and_10_000_deep_is_413() {
    let api = TestApi::memory().await;
    // 10 000 levels are 20 000 bytes: over the 16 KiB limit before any parsing.
    let ten_thousand = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    // 8 000 levels fit under the limit and go far past serde_json's recursion limit (128).
    let eight_thousand = format!(r#"{{"mobile":{}{}}}"#, "[".repeat(8_000), "]".repeat(8_000));
    let objects = format!(r#"{{"mobile":"{MOBILE}","x":{}1{}}}"#, r#"{"a":"#.repeat(2_500), "}".repeat(2_500));
    for route in post_routes() {
        assert_eq!(api.post_raw(route, ten_thousand.clone()).await.outcome(), (413, "payload_too_large"), "{route}");
        assert_eq!(api.post_raw(route, eight_thousand.clone()).await.outcome(), (400, "invalid_request"), "{route}");
        assert_eq!(api.post_raw(route, objects.clone()).await.outcome(), (400, "invalid_request"), "{route}");
    }
    assert_eq!(api.get(&format!("/user/mobile/{MOBILE}")).await.status, 200, "the server still answers");
    assert_nothing_sent(&api);
}

#[tokio::test]
async fn invalid_utf8_and_lone_surrogates_are_400_invalid_request() {
    let api = TestApi::memory().await;
    let bodies: [&[u8]; 4] = [
        b"{\"mobile\":\"138\xff\xfe12345678\"}",
        b"{\"mobile\":\"13812345678\",\"password\":\"\xc3\x28password\"}",
        b"\xef\xbb\xbf{\"mobile\":\"13812345678\"}",
        br#"{"mobile":"13812345678\ud800"}"#,
    ];
    for route in post_routes() {
        for body in bodies {
            let reply = api.post_raw(route, body.to_vec()).await;
            assert_eq!(reply.outcome(), (400, "invalid_request"), "{route} {}", String::from_utf8_lossy(body));
        }
    }
    assert_nothing_sent(&api);
}

#[tokio::test]
async fn nul_bytes_are_refused_as_the_field_they_sit_in_and_consume_nothing() {
    let api = TestApi::memory().await;
    let escaped = api.post("/user/sms", json!({ "mobile": format!("{MOBILE}\u{0}") })).await;
    assert_eq!(escaped.outcome(), (400, "invalid_mobile"));
    let raw = api.post_raw("/user/sms", format!("{{\"mobile\":\"{MOBILE}\u{0}\"}}")).await;
    assert_eq!(raw.outcome(), (400, "invalid_request"), "a raw control character is not JSON");
    assert_eq!(api.get("/user/mobile/138%0012345678").await.outcome(), (400, "invalid_mobile"));
    assert_eq!(api.get("/user/sms/138%0012345678").await.status / 100, 4);
    assert_nothing_sent(&api);

    let code = api.send_code(MOBILE).await;
    let nul_code = api
        .post(
            "/user/register",
            json!({ "mobile": MOBILE, "password": PASSWORD, "sms_code": format!("{}\u{0}", &code[..5]) }),
        )
        .await;
    assert_eq!(nul_code.outcome(), (400, "invalid_sms_code"));
    let login = api.post("/user/login", json!({ "username": format!("{MOBILE}\u{0}"), "password": PASSWORD })).await;
    assert_eq!(login.outcome(), (401, "invalid_credentials"));
    api.register_with_code(MOBILE, PASSWORD, &code).await;
    assert_eq!(api.sms.attempted().len(), 1, "only the one code asked for");
}

#[tokio::test]
async fn duplicate_keys_are_400_invalid_request_because_a_proxy_may_read_the_other_value() {
    let api = TestApi::memory().await;
    let cases = [
        ("/user/sms", format!(r#"{{"mobile":"{MOBILE}","mobile":"13912345678"}}"#)),
        (
            "/user/register",
            format!(r#"{{"mobile":"{MOBILE}","password":"{PASSWORD}","sms_code":"000000","sms_code":"123456"}}"#),
        ),
        (
            "/user/register",
            format!(r#"{{"mobile":"13900000000","mobile":"{MOBILE}","password":"{PASSWORD}","sms_code":"123456"}}"#),
        ),
        ("/user/login", format!(r#"{{"username":"{MOBILE}","password":"x","password":"{PASSWORD}"}}"#)),
        ("/user/login", format!(r#"{{"username":"13900000000","username":"{MOBILE}","password":"{PASSWORD}"}}"#)),
    ];
    let mut wrong = Vec::new();
    for (route, body) in &cases {
        let reply = api.post_raw(route, body.clone()).await;
        if reply.outcome() != (400, "invalid_request") {
            wrong.push(format!("{route} {body} -> {} {}", reply.status, reply.body));
        }
    }
    assert!(wrong.is_empty(), "duplicate keys must be 400 invalid_request:\n{}", wrong.join("\n"));
    assert_nothing_sent(&api);
}

#[tokio::test]
async fn numbers_and_other_types_where_strings_belong_are_400_invalid_request_naming_the_field() {
    let api = TestApi::memory().await;
    let cases = [
        ("/user/sms", json!({ "mobile": 13812345678u64 }), "mobile"),
        ("/user/sms", json!({ "mobile": 1.3812345678e10 }), "mobile"),
        ("/user/sms", json!({ "mobile": [MOBILE] }), "mobile"),
        ("/user/sms", json!({ "mobile": { "value": MOBILE } }), "mobile"),
        ("/user/sms", json!({ "mobile": true }), "mobile"),
        ("/user/register", json!({ "mobile": MOBILE, "password": 12345678, "sms_code": "123456" }), "password"),
        ("/user/register", json!({ "mobile": MOBILE, "password": PASSWORD, "sms_code": 123456 }), "sms_code"),
        (
            "/user/register",
            json!({ "mobile": MOBILE, "password": PASSWORD, "sms_code": "123456", "password2": 1 }),
            "password2",
        ),
        ("/user/login", json!({ "username": 13812345678u64, "password": PASSWORD }), "username"),
        ("/user/login", json!({ "username": MOBILE, "password": 12345678 }), "password"),
        ("/user/login", json!({ "mobile": 13812345678u64, "password": PASSWORD }), "mobile"),
    ];
    for (route, body, field) in cases {
        let reply = api.post(route, body.clone()).await;
        assert_eq!(reply.outcome(), (400, "invalid_request"), "{route} {body}");
        assert_eq!(reply.body["field"], field, "{route} {body}");
    }
    assert_nothing_sent(&api);
}

#[tokio::test]
async fn a_query_string_with_invalid_percent_encoding_is_ignored() {
    let api = TestApi::memory().await;
    let plain = api.get(&format!("/user/mobile/{MOBILE}")).await;
    for query in ["?x=%ZZ", "?%FF%FE=%", "?a=%E0%A4%A&b=%%%", "?mobile=%0D%0Ainjected"] {
        let reply = api.get(&format!("/user/mobile/{MOBILE}{query}")).await;
        assert_eq!((reply.status, &reply.body), (200, &plain.body), "{query}");
        let reply = api.post(&format!("/user/sms{query}"), json!({ "mobile": "1381234567" })).await;
        assert_eq!(reply.outcome(), (400, "invalid_mobile"), "{query}");
        assert_only_our_headers(&reply, query);
    }
    assert_nothing_sent(&api);
}

/// Sends `head` as it is over a new connection and returns the status line and the rest.
async fn raw_request(api: &TestApi, head: &[u8]) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(api.base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(head).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (status_line, rest) = answer.split_once("\r\n").unwrap_or((&answer, ""));
    (status_line.to_owned(), rest.to_owned())
}

#[tokio::test]
async fn a_long_path_is_answered_with_a_json_error_and_a_100_kb_one_with_414() {
    let api = TestApi::memory().await;
    // 60 000 bytes: within what an HTTP stack takes (64 KiB), so it reaches the service.
    let long = "1".repeat(60_000);
    assert_eq!(api.get(&format!("/user/mobile/{long}")).await.outcome(), (400, "invalid_mobile"));
    // The GET alias is off by default: refused before its path is read.
    assert_eq!(api.get(&format!("/user/sms/{long}")).await.outcome(), (405, "method_not_allowed"));
    assert_eq!(api.get(&format!("/user/{long}")).await.outcome(), (404, "not_found"));
    assert_eq!(api.post(&format!("/user/{long}"), json!({ "mobile": MOBILE })).await.outcome(), (404, "not_found"));
    // 100 KB: over the URI limit of the local API's HTTP stack, refused before the service
    // (API Gateway refuses a request line over 10 KB itself).
    let path = format!("/user/mobile/{}", "1".repeat(100_000));
    let (status, rest) =
        raw_request(&api, format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await;
    println!("GET of a 100 KB path: {status:?}, {} bytes after the status line", rest.len());
    assert!(status.starts_with("HTTP/1.1 414"), "{status}");
    assert_eq!(api.get(&format!("/user/mobile/{MOBILE}")).await.status, 200, "the server still answers");
    assert_nothing_sent(&api);
}

#[tokio::test]
async fn full_width_digits_are_no_mobile_and_no_code_and_consume_nothing() {
    let api = TestApi::memory().await;
    let wide = full_width(MOBILE);
    let encoded: String = wide.bytes().map(|b| format!("%{b:02X}")).collect();
    assert_eq!(api.get(&format!("/user/mobile/{encoded}")).await.outcome(), (400, "invalid_mobile"));
    assert_eq!(api.post("/user/sms", json!({ "mobile": wide })).await.outcome(), (400, "invalid_mobile"));
    let register = json!({ "mobile": wide, "password": PASSWORD, "sms_code": "123456" });
    assert_eq!(api.post("/user/register", register).await.outcome(), (400, "invalid_mobile"));
    assert_nothing_sent(&api);

    let code = api.send_code(MOBILE).await;
    // More wrong-shape tries than SMS_CODE_MAX_ATTEMPTS (5): none of them counts.
    for _ in 0..6 {
        let reply = api
            .post("/user/register", json!({ "mobile": MOBILE, "password": PASSWORD, "sms_code": full_width(&code) }))
            .await;
        assert_eq!(reply.outcome(), (400, "invalid_sms_code"));
    }
    api.register_with_code(MOBILE, PASSWORD, &code).await;
    let login = api.post("/user/login", json!({ "username": wide, "password": PASSWORD })).await;
    assert_eq!(login.outcome(), (401, "invalid_credentials"));
    assert_eq!(api.sms.attempted().len(), 1);
}

#[tokio::test]
async fn a_10_000_character_password_is_refused_on_register_and_fails_fast_on_login() {
    let api = TestApi::memory().await;
    let long = "x".repeat(10_000);
    let code = api.send_code(MOBILE).await;
    let reply = api.post("/user/register", json!({ "mobile": MOBILE, "password": long, "sms_code": code })).await;
    assert_eq!(reply.outcome(), (400, "invalid_password"));
    api.register_with_code(MOBILE, PASSWORD, &code).await; // the code was not consumed

    let timed = |username: &'static str, password: String| {
        let api = &api;
        async move {
            let started = Instant::now();
            let reply = api.post("/user/login", json!({ "username": username, "password": password })).await;
            (reply.outcome().0, reply.code().to_owned(), started.elapsed())
        }
    };
    let (_, _, normal) = timed(MOBILE, "wrong-password".into()).await;
    for (username, password, what) in [
        (MOBILE, long.clone(), "10 000 ASCII characters, registered user"),
        ("13900000000", long.clone(), "10 000 ASCII characters, unknown user"),
        (MOBILE, "密".repeat(5_000), "5 000 CJK characters (15 000 bytes)"),
    ] {
        let (status, code, elapsed) = timed(username, password).await;
        println!(
            "login with {what}: {status} {code} in {} ms (a short wrong password: {} ms)",
            elapsed.as_millis(),
            normal.as_millis()
        );
        assert!(status == 400 || status == 401, "{what}: {status} {code}");
        assert!(elapsed < Duration::from_secs(1), "{what}: {elapsed:?}");
    }
    assert_eq!(api.sms.attempted().len(), 1);
}

#[tokio::test]
async fn header_injection_attempts_in_echoed_values_stay_out_of_the_headers() {
    let api = TestApi::builder().cors("http://localhost:5173").start().await;
    // CR/LF, and characters whose UTF-16 low bytes are CR/LF (U+560A U+560D, U+010D U+010A),
    // which some stacks truncate to bytes when writing headers.
    let attempts = [
        "13812345678\r\nSet-Cookie: a=b",
        "13812345678\nX-Injected: 1",
        "13812345678\u{560A}\u{560D}Set-Cookie: a=b",
        "13812345678\u{010D}\u{010A}X-Injected: 1",
        "13812345678\u{2028}X-Injected: 1",
        "13812345678\u{85}X-Injected: 1",
    ];
    for attempt in attempts {
        let encoded: String = attempt.bytes().map(|b| format!("%{b:02X}")).collect();
        let path = api.get(&format!("/user/mobile/{encoded}")).await;
        assert_eq!(path.outcome(), (400, "invalid_mobile"), "{attempt:?}");
        assert_only_our_headers(&path, attempt);
        let alias = api.get(&format!("/user/sms/{encoded}")).await;
        assert_only_our_headers(&alias, attempt);
        let body = api.post("/user/sms", json!({ "mobile": attempt })).await;
        assert_eq!(body.outcome(), (400, "invalid_mobile"), "{attempt:?}");
        assert_only_our_headers(&body, attempt);
        let login = api.post("/user/login", json!({ "username": attempt, "password": PASSWORD })).await;
        assert_eq!(login.outcome(), (401, "invalid_credentials"), "{attempt:?}");
        assert_only_our_headers(&login, attempt);
    }
    // The one request header echoed back is Origin; a non-ASCII one is not echoed.
    let origin = reqwest::header::HeaderValue::from_bytes("http://localhost:5173\u{560A}".as_bytes()).unwrap();
    let reply = api.http.get(api.url(&format!("/user/mobile/{MOBILE}"))).header("origin", origin).send().await.unwrap();
    assert!(reply.headers().get("access-control-allow-origin").is_none());
    assert_nothing_sent(&api);
}

//! openapi.yaml describes exactly the routes the code serves and
//! template.yaml deploys, each on the function that owns it, and every
//! error it documents carries the error shape and the list of its codes.

use std::collections::BTreeSet;

use integration_tests::workspace_root;
use serde_yaml::Value;
use signup::http::ROUTES;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn yaml(file: &str) -> Value {
    let text = std::fs::read_to_string(workspace_root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file} is not YAML: {e}"))
}

fn openapi() -> Value {
    yaml("openapi.yaml")
}

/// Follows local `$ref`s (`#/components/...`) until a node without one.
fn deref<'a>(doc: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let pointer = reference.strip_prefix("#/").unwrap_or_else(|| panic!("non-local $ref {reference}"));
        node = pointer.split('/').fold(doc, |at, part| &at[part]);
        assert!(!node.is_null(), "$ref {reference} points nowhere");
    }
    node
}

struct Operation<'a> {
    method: String,
    path: String,
    function: String,
    spec: &'a Value,
}

impl Operation<'_> {
    fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_mapping().expect("paths") {
        let path = path.as_str().unwrap();
        for (method, spec) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            assert!(METHODS.contains(&method), "{path}: {method} is not an HTTP method");
            let function =
                spec["x-function"].as_str().unwrap_or_else(|| panic!("{method} {path} has no x-function")).to_owned();
            found.push(Operation { method: method.to_uppercase(), path: path.to_owned(), function, spec });
        }
    }
    found
}

/// (method, path without the trailing slash, function) of every HttpApi event in template.yaml.
fn deployed_routes() -> BTreeSet<(String, String, String)> {
    let template = yaml("template.yaml");
    let mut routes = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let code_uri = resource["Properties"]["CodeUri"].as_str().unwrap();
        let function = code_uri.strip_prefix("functions/").unwrap_or(code_uri).to_owned();
        for (_, event) in resource["Properties"]["Events"].as_mapping().into_iter().flatten() {
            let props = &event["Properties"];
            let path = props["Path"].as_str().unwrap().trim_end_matches('/').to_owned();
            routes.insert((props["Method"].as_str().unwrap().to_owned(), path, function.clone()));
        }
    }
    routes
}

fn described_routes() -> BTreeSet<(String, String, String)> {
    let doc = openapi();
    operations(&doc).into_iter().map(|op| (op.method, op.path, op.function)).collect()
}

/// The `code` enum of an error response: it must be `allOf: [Error, {properties: {code: {enum}}}]`.
fn error_codes(doc: &Value, label: &str, status: &str, response: &Value) -> BTreeSet<String> {
    let response = deref(doc, response);
    let schema = &response["content"]["application/json"]["schema"];
    let parts = schema["allOf"].as_sequence().unwrap_or_else(|| panic!("{label} {status}: schema is not allOf"));
    assert!(parts.iter().any(|p| p["$ref"] == "#/components/schemas/Error"), "{label} {status}: not the Error shape");
    let codes: BTreeSet<String> = parts
        .iter()
        .filter_map(|p| p["properties"]["code"]["enum"].as_sequence())
        .flatten()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert!(!codes.is_empty(), "{label} {status}: no list of codes");
    codes
}

#[test]
fn openapi_describes_exactly_the_served_routes_on_their_functions() {
    let served: BTreeSet<(String, String, String)> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.pattern.to_owned(), r.endpoint.function().to_owned())).collect();
    assert_eq!(described_routes(), served, "openapi.yaml (left) against signup::http::ROUTES (right)");
}

#[test]
fn openapi_describes_exactly_the_deployed_routes_on_their_functions() {
    assert_eq!(described_routes(), deployed_routes(), "openapi.yaml (left) against template.yaml (right)");
}

#[test]
fn openapi_says_that_every_path_also_takes_a_trailing_slash() {
    let doc = openapi();
    let description = doc["info"]["description"].as_str().unwrap();
    assert!(description.contains("trailing slash"), "info.description must say so");
    for op in operations(&doc) {
        assert!(!op.path.ends_with('/'), "{}: list the path without its slash", op.label());
    }
}

#[test]
fn every_error_response_has_the_error_shape_and_lists_its_codes() {
    let doc = openapi();
    for op in operations(&doc) {
        for (status, response) in op.spec["responses"].as_mapping().unwrap() {
            let status = status.as_str().unwrap_or_else(|| panic!("{}: quote status {status:?}", op.label()));
            if status.starts_with('4') || status.starts_with('5') {
                for code in error_codes(&doc, &op.label(), status, response) {
                    let snake = !code.is_empty()
                        && code.split('_').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()));
                    assert!(snake, "{} {status}: code {code:?} is not snake_case", op.label());
                }
            }
        }
    }
}

#[test]
fn every_operation_documents_the_answers_any_route_can_give() {
    let doc = openapi();
    for op in operations(&doc) {
        let responses = &op.spec["responses"];
        for (status, code) in [
            ("404", "not_found"),
            ("413", "payload_too_large"),
            ("500", "internal_error"),
            ("503", "service_unavailable"),
        ] {
            let codes = error_codes(&doc, &op.label(), status, &responses[status]);
            assert!(codes.contains(code), "{} {status} must list {code}", op.label());
        }
        if op.method == "POST" {
            let codes = error_codes(&doc, &op.label(), "415", &responses["415"]);
            assert_eq!(codes, BTreeSet::from(["unsupported_media_type".to_owned()]), "{}", op.label());
        }
        for (status, response) in responses.as_mapping().unwrap() {
            let headers = &deref(&doc, response)["headers"];
            let cache = deref(&doc, &headers["Cache-Control"]);
            assert_eq!(cache["required"], Value::Bool(true), "{} {status:?}: Cache-Control", op.label());
            assert_eq!(cache["schema"]["const"], "no-store", "{} {status:?}", op.label());
        }
    }
}

#[test]
fn every_post_takes_a_required_json_object_that_may_carry_unknown_fields() {
    let doc = openapi();
    for op in operations(&doc).into_iter().filter(|op| op.method == "POST") {
        let body = &op.spec["requestBody"];
        assert_eq!(body["required"], Value::Bool(true), "{}", op.label());
        let schema = deref(&doc, &body["content"]["application/json"]["schema"]);
        assert_eq!(schema["type"], "object", "{}", op.label());
        assert!(
            schema.get("additionalProperties").is_none_or(|a| a != &Value::Bool(false)),
            "{}: the service ignores unknown fields",
            op.label()
        );
        assert!(!schema["required"].as_sequence().unwrap().is_empty(), "{}: required fields", op.label());
    }
}

#[test]
fn sms_limits_come_with_retry_after_in_the_header_and_the_body() {
    let doc = openapi();
    for op in operations(&doc).into_iter().filter(|op| op.function == "send-sms") {
        let response = deref(&doc, &op.spec["responses"]["429"]);
        let codes = error_codes(&doc, &op.label(), "429", response);
        for code in ["sms_too_frequent", "sms_daily_limit", "sms_ip_limit"] {
            assert!(codes.contains(code), "{} 429 must list {code}", op.label());
        }
        let header = deref(&doc, &response["headers"]["Retry-After"]);
        assert_eq!(header["required"], Value::Bool(true), "{}", op.label());
        let parts = response["content"]["application/json"]["schema"]["allOf"].as_sequence().unwrap();
        let required: Vec<&Value> = parts.iter().filter_map(|p| p["required"].as_sequence()).flatten().collect();
        assert!(required.iter().any(|r| *r == "retry_after"), "{}: retry_after in the body", op.label());
    }
}

//! template.yaml deploys exactly the routes the code serves, each to the
//! function that owns it, with and without the trailing slash.

use std::collections::BTreeSet;

use integration_tests::workspace_root;
use serde_yaml::Value;
use signup::http::ROUTES;

fn template() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

/// (method, path as written, function folder) for every HttpApi event.
fn template_routes() -> Vec<(String, String, String)> {
    let mut routes = Vec::new();
    for (_, resource) in template()["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let code_uri = resource["Properties"]["CodeUri"].as_str().unwrap();
        let function =
            code_uri.strip_prefix("functions/").unwrap_or_else(|| panic!("CodeUri {code_uri} is not under functions/"));
        for (_, event) in resource["Properties"]["Events"].as_mapping().into_iter().flatten() {
            assert_eq!(event["Type"], "HttpApi");
            let props = &event["Properties"];
            routes.push((
                props["Method"].as_str().unwrap().to_owned(),
                props["Path"].as_str().unwrap().to_owned(),
                function.to_owned(),
            ));
        }
    }
    routes
}

#[test]
fn template_routes_are_the_served_routes_on_their_own_functions() {
    let served: BTreeSet<(String, String, String)> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.pattern.to_owned(), r.endpoint.function().to_owned())).collect();
    let deployed: BTreeSet<(String, String, String)> =
        template_routes().into_iter().map(|(m, p, f)| (m, p.trim_end_matches('/').to_owned(), f)).collect();
    assert_eq!(deployed, served);
}

#[test]
fn every_route_is_deployed_with_and_without_a_trailing_slash() {
    let deployed: BTreeSet<(String, String)> = template_routes().into_iter().map(|(m, p, _)| (m, p)).collect();
    for route in ROUTES {
        for path in [route.pattern.to_owned(), format!("{}/", route.pattern)] {
            assert!(deployed.contains(&(route.method.to_owned(), path.clone())), "{} {path} is missing", route.method);
        }
    }
}

#[test]
fn every_function_crate_is_deployed_and_every_deployed_function_exists() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(workspace_root().join("functions"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let deployed: BTreeSet<String> = template_routes().into_iter().map(|(_, _, f)| f).collect();
    assert_eq!(deployed, on_disk);
}

#[test]
fn only_the_send_function_may_publish_to_sns_and_only_with_the_sns_backend() {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let resources = template()["Resources"].clone();
    for (name, resource) in resources.as_mapping().unwrap() {
        let policies = serde_yaml::to_string(&resource["Properties"]["Policies"]).unwrap();
        if name == "SendSmsFunction" {
            assert!(policies.contains("sns:Publish") && policies.contains("UseSns"), "{policies}");
        } else {
            assert!(!policies.contains("sns:"), "{name:?} must not touch SNS");
        }
    }
    assert!(!text.contains("dynamodb:*") && !text.contains("dynamodb:Scan"), "no broad DynamoDB grant");
}

#[tokio::test]
async fn the_local_api_answers_every_route_of_the_table_with_and_without_the_slash() {
    // With the GET alias on, so that it too is answered by its route.
    let api = integration_tests::api::TestApi::builder().var("SMS_SEND_BY_GET", "true").start().await;
    for route in ROUTES {
        let path = route.pattern.replace("{mobile}", "13812345678");
        for path in [path.clone(), format!("{path}/")] {
            let request = api.http.request(route.method.parse().unwrap(), api.url(&path)).json(&serde_json::json!({}));
            let status = request.send().await.unwrap().status().as_u16();
            assert!(status != 404 && status != 405, "{} {path} answered {status}", route.method);
        }
    }
}

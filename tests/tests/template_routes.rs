//! template.yaml deploys exactly the routes the code serves, each to the
//! function that owns it, with and without the trailing slash; each function
//! gets only the table keys, secrets and settings it needs; the pages are
//! served from a private bucket behind CloudFront with security headers; and
//! events/env.json sets what `sam local invoke` will actually pass on.

use std::collections::{BTreeMap, BTreeSet};

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

// ---- Helpers over the parsed template. serde_yaml keeps CloudFormation's
// short forms (`!Ref`, `!If`, ...) as tagged values; indexing looks through
// the tag.

/// The functions by logical id.
fn functions() -> BTreeMap<String, Value> {
    template()["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(name, r)| (name.as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

/// The function's folder under functions/, from its CodeUri.
fn folder(function: &Value) -> &str {
    function["Properties"]["CodeUri"].as_str().unwrap().trim_start_matches("functions/")
}

fn function(folder_name: &str) -> Value {
    functions().into_values().find(|f| folder(f) == folder_name).unwrap_or_else(|| panic!("no {folder_name}"))
}

/// The tag of a short-form intrinsic (`If` for `!If`), if the value has one.
fn tag(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(t) => Some(t.tag.to_string().trim_start_matches('!').to_owned()),
        _ => None,
    }
}

/// Every value a field may take: both branches of an `!If`, minus
/// `!Ref AWS::NoValue`.
fn alternatives(value: &Value) -> Vec<Value> {
    match tag(value).as_deref() {
        Some("If") => value.as_sequence().unwrap()[1..=2].iter().flat_map(alternatives).collect(),
        Some("Ref") if value == &ref_to("AWS::NoValue") => Vec::new(),
        _ => vec![value.clone()],
    }
}

fn ref_to(name: &str) -> Value {
    serde_yaml::from_str(&format!("!Ref {name}")).unwrap()
}

/// The parameter a value refers to with `!Ref`, if it does.
fn referenced_parameter(value: &Value) -> Option<String> {
    (tag(value).as_deref() == Some("Ref")).then(|| value.as_str().map(str::to_owned)).flatten()
}

/// The variables a function is deployed with: the Globals' and its own.
fn environment(function: &Value) -> BTreeMap<String, Value> {
    let globals = template()["Globals"]["Function"]["Environment"]["Variables"].clone();
    let own = function["Properties"]["Environment"]["Variables"].clone();
    [globals, own]
        .iter()
        .filter_map(Value::as_mapping)
        .flatten()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
        .collect()
}

/// Every statement of the function's inline policies, through `!If`.
fn statements(function: &Value) -> Vec<Value> {
    let mut found = Vec::new();
    for policy in function["Properties"]["Policies"].as_sequence().into_iter().flatten() {
        for policy in alternatives(policy) {
            found.extend(policy["Statement"].as_sequence().into_iter().flatten().cloned());
        }
    }
    found
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(items) => items.iter().map(|i| i.as_str().unwrap().to_owned()).collect(),
        Value::String(s) => vec![s.clone()],
        other => panic!("expected a string or a list of strings, got {other:?}"),
    }
}

/// action -> key prefixes it may touch, over every DynamoDB statement of the function.
fn table_grants(function: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut grants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for statement in statements(function) {
        let actions = strings(&statement["Action"]);
        if !actions.iter().any(|a| a.starts_with("dynamodb:")) {
            continue;
        }
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(tag(&statement["Resource"]).as_deref(), Some("GetAtt"), "{statement:?}");
        assert_eq!(statement["Resource"], "Table.Arn");
        let condition = &statement["Condition"];
        assert_eq!(condition["Null"]["dynamodb:LeadingKeys"], "false", "a key is required: {statement:?}");
        let prefixes = strings(&condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]);
        assert!(!prefixes.is_empty(), "{statement:?}");
        for action in actions {
            grants.entry(action).or_default().extend(prefixes.iter().cloned());
        }
    }
    grants
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const USER: &str = "USER#*";
const SMS: &str = "SMS#*";
const LIMIT: &str = "LIMIT#*";

#[test]
fn each_function_touches_only_its_key_prefixes_with_only_its_actions() {
    let expected: BTreeMap<&str, Vec<(&str, BTreeSet<String>)>> = BTreeMap::from([
        ("check-mobile", vec![("dynamodb:GetItem", set(&[USER]))]),
        (
            "send-sms",
            vec![
                ("dynamodb:GetItem", set(&[USER, SMS, LIMIT])),
                ("dynamodb:ConditionCheckItem", set(&[USER, SMS, LIMIT])),
                ("dynamodb:PutItem", set(&[SMS, LIMIT])),
                ("dynamodb:UpdateItem", set(&[SMS, LIMIT])),
                ("dynamodb:DeleteItem", set(&[SMS, LIMIT])),
            ],
        ),
        (
            "register",
            vec![
                ("dynamodb:GetItem", set(&[USER, SMS, LIMIT])),
                ("dynamodb:ConditionCheckItem", set(&[USER, SMS, LIMIT])),
                ("dynamodb:PutItem", set(&[USER, SMS, LIMIT])),
                ("dynamodb:UpdateItem", set(&[USER, SMS, LIMIT])),
                ("dynamodb:DeleteItem", set(&[SMS, LIMIT])),
            ],
        ),
        (
            "login",
            vec![
                ("dynamodb:GetItem", set(&[USER, SMS, LIMIT])),
                ("dynamodb:ConditionCheckItem", set(&[USER, SMS, LIMIT])),
                ("dynamodb:PutItem", set(&[SMS, LIMIT])),
                ("dynamodb:UpdateItem", set(&[SMS, LIMIT])),
                ("dynamodb:DeleteItem", set(&[SMS, LIMIT])),
            ],
        ),
    ]);
    for function in functions().values() {
        let name = folder(function);
        let want: BTreeMap<String, BTreeSet<String>> =
            expected[name].iter().map(|(a, p)| (a.to_string(), p.clone())).collect();
        assert_eq!(table_grants(function), want, "{name}");
    }
}

#[test]
fn only_register_may_write_a_user_item() {
    for function in functions().values() {
        let writes_users = table_grants(function).iter().any(|(action, prefixes)| {
            action != "dynamodb:GetItem" && action != "dynamodb:ConditionCheckItem" && prefixes.contains(USER)
        });
        assert_eq!(writes_users, folder(function) == "register", "{}", folder(function));
    }
}

#[test]
fn check_mobile_may_only_read_user_items() {
    let grants = table_grants(&function("check-mobile"));
    assert_eq!(grants, BTreeMap::from([("dynamodb:GetItem".to_owned(), set(&[USER]))]));
}

#[test]
fn sns_publish_is_allowed_to_phone_numbers_and_denied_on_every_sns_arn() {
    let sns: Vec<Value> = statements(&function("send-sms"))
        .into_iter()
        .filter(|s| strings(&s["Action"]).iter().any(|a| a.starts_with("sns:")))
        .collect();
    assert_eq!(sns.len(), 2, "{sns:?}");
    let allow = sns.iter().find(|s| s["Effect"] == "Allow").expect("an Allow");
    assert_eq!(strings(&allow["Action"]), ["sns:Publish"]);
    assert_eq!(allow["Resource"], "*", "a phone number has no ARN");
    let deny = sns.iter().find(|s| s["Effect"] == "Deny").expect("a Deny");
    assert_eq!(strings(&deny["Action"]), ["sns:Publish"]);
    assert_eq!(tag(&deny["Resource"]).as_deref(), Some("Sub"));
    assert_eq!(deny["Resource"], "arn:${AWS::Partition}:sns:*:*:*", "every topic and endpoint ARN");
}

/// The variables that would hold a secret in clear.
const SECRET_VARIABLES: [&str; 5] =
    ["JWT_SECRET", "SMS_CODE_SECRET", "CLOOPEN_AUTH_TOKEN", "GEETEST_CAPTCHA_KEY", "TURNSTILE_SECRET_KEY"];

#[test]
fn no_secret_value_is_resolved_into_the_template_or_any_environment() {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    assert!(!text.contains("resolve:secretsmanager"), "a dynamic reference puts the secret into the configuration");
    for function in functions().values() {
        for variable in environment(function).keys() {
            assert!(!SECRET_VARIABLES.contains(&variable.as_str()), "{}: {variable} in clear", folder(function));
        }
    }
}

#[test]
fn each_function_may_read_exactly_the_secrets_whose_arns_it_is_given() {
    let expected = BTreeMap::from([
        ("check-mobile", set(&[])),
        (
            "send-sms",
            set(&[
                "SmsCodeSecretArn",
                "CloopenAuthTokenSecretArn",
                "GeetestCaptchaKeySecretArn",
                "TurnstileSecretKeySecretArn",
            ]),
        ),
        ("register", set(&["JwtSecretArn", "SmsCodeSecretArn"])),
        ("login", set(&["JwtSecretArn", "SmsCodeSecretArn"])),
    ]);
    for function in functions().values() {
        let name = folder(function);
        let mut readable = BTreeSet::new();
        let mut batch = false;
        for statement in statements(function) {
            let actions = strings(&statement["Action"]);
            if !actions.iter().any(|a| a.starts_with("secretsmanager:")) {
                continue;
            }
            assert_eq!(statement["Effect"], "Allow");
            if actions == ["secretsmanager:BatchGetSecretValue"] {
                // Names no resource and reads nothing by itself: each secret
                // in a batch still needs GetSecretValue on that secret.
                assert_eq!(statement["Resource"], "*", "{name}");
                batch = true;
                continue;
            }
            assert_eq!(actions, ["secretsmanager:GetSecretValue"], "{name}");
            let resources = match &statement["Resource"] {
                Value::Sequence(items) => items.clone(),
                one => vec![one.clone()],
            };
            for resource in resources.iter().flat_map(alternatives) {
                let parameter = referenced_parameter(&resource).unwrap_or_else(|| panic!("{name}: {resource:?}"));
                readable.insert(parameter);
            }
        }
        let given: BTreeSet<String> = environment(function)
            .iter()
            .filter(|(k, _)| k.ends_with("_ARN"))
            .flat_map(|(_, v)| alternatives(v))
            .map(|v| referenced_parameter(&v).expect("an ARN variable names its parameter"))
            .collect();
        assert_eq!(readable, expected[name], "{name} may read");
        // Two or more secrets are read in one BatchGetSecretValue, which
        // moto does not check permissions for: only this test would notice
        // the grant missing before a cold start on AWS did.
        assert_eq!(
            batch,
            expected[name].len() >= 2,
            "{name}: BatchGetSecretValue granted exactly when it may read two or more"
        );
        assert_eq!(given, expected[name], "{name} is given");
    }
}

#[test]
fn secret_parameters_take_whole_secret_arns() {
    let parameters = template()["Parameters"].clone();
    for name in ["JwtSecretArn", "SmsCodeSecretArn", "CloopenAuthTokenSecretArn", "GeetestCaptchaKeySecretArn"] {
        let pattern = parameters[name]["AllowedPattern"].as_str().unwrap_or_else(|| panic!("{name} has a pattern"));
        assert!(pattern.contains(":secretsmanager:") && pattern.contains("[A-Za-z0-9]{6}"), "{name}: {pattern}");
    }
    assert!(parameters["JwtSecretArn"]["Default"].is_null(), "the JWT key has no default: deploy names it");
    assert!(parameters["SmsCodeSecretArn"]["Default"].is_null(), "the code key has no default: deploy names it");
}

#[test]
fn settings_parameters_carry_the_bounds_lambda_enforces_and_the_contract_defaults() {
    let parameters = template()["Parameters"].clone();
    let number = |name: &str, field: &str| {
        parameters[name][field].as_i64().unwrap_or_else(|| panic!("{name}.{field} is a number"))
    };
    for (name, default) in [
        ("SmsMaxPerMobilePerDay", 10),
        ("SmsMaxPerIpPerHour", 20),
        ("SmsDailyBudget", 10000),
        ("AuthMaxAttemptsPerIpPer10Min", 30),
        ("LoginMaxFailures", 5),
        ("LoginLockSeconds", 900),
        ("SmsCodeMaxFailuresPerMobilePerDay", 20),
    ] {
        assert_eq!(number(name, "Default"), default, "{name}");
        assert_eq!(number(name, "MinValue"), 1, "{name}: 0 would mean no limit");
    }
    assert_eq!(number("SmsResendIntervalSeconds", "MinValue"), 30);
    assert_eq!(number("SmsCodeMaxAttempts", "MaxValue"), 10);
    assert_eq!(number("SmsCodeLength", "MinValue"), 6);
    assert_eq!(parameters["SmsSendByGet"]["Default"], "false");
    assert_eq!(strings(&parameters["CaptchaProvider"]["AllowedValues"]), ["none", "geetest", "turnstile"]);
    assert_eq!(parameters["CaptchaProvider"]["Default"], "none");
    for url in ["GeetestApiUrl", "TurnstileApiUrl"] {
        assert_eq!(parameters[url]["AllowedPattern"], "^https://.+", "{url} is https in Lambda");
    }
}

#[test]
fn each_setting_reaches_exactly_the_functions_that_use_it() {
    let all = ["send-sms", "check-mobile", "register", "login"];
    let codes = ["send-sms", "register", "login"];
    let checks = ["register", "login"];
    let expected: Vec<(&str, Option<&str>, &[&str])> = vec![
        ("STORE", None, &all),
        ("TABLE_NAME", Some("Table"), &all),
        ("DYNAMODB_TIMEOUT_MS", Some("DynamoDbTimeoutMs"), &all),
        ("SMS_CODE_SECRET_ARN", Some("SmsCodeSecretArn"), &codes),
        ("SMS_CODE_LENGTH", Some("SmsCodeLength"), &codes),
        ("SMS_CODE_TTL_SECONDS", Some("SmsCodeTtlSeconds"), &["send-sms"]),
        ("SMS_RESEND_INTERVAL_SECONDS", Some("SmsResendIntervalSeconds"), &["send-sms"]),
        ("SMS_MAX_PER_MOBILE_PER_DAY", Some("SmsMaxPerMobilePerDay"), &["send-sms"]),
        ("SMS_MAX_PER_IP_PER_HOUR", Some("SmsMaxPerIpPerHour"), &["send-sms"]),
        ("SMS_DAILY_BUDGET", Some("SmsDailyBudget"), &["send-sms"]),
        ("SMS_SEND_BY_GET", Some("SmsSendByGet"), &["send-sms"]),
        ("SMS_BACKEND", Some("SmsBackend"), &["send-sms"]),
        ("CAPTCHA_PROVIDER", Some("CaptchaProvider"), &["send-sms"]),
        ("CAPTCHA_TIMEOUT_MS", Some("CaptchaTimeoutMs"), &["send-sms"]),
        ("GEETEST_CAPTCHA_ID", Some("GeetestCaptchaId"), &["send-sms"]),
        ("GEETEST_API_URL", Some("GeetestApiUrl"), &["send-sms"]),
        ("TURNSTILE_API_URL", Some("TurnstileApiUrl"), &["send-sms"]),
        ("CLOOPEN_LOGIN_TEMPLATE_ID", Some("CloopenLoginTemplateId"), &["send-sms"]),
        ("CLOOPEN_RESET_TEMPLATE_ID", Some("CloopenResetTemplateId"), &["send-sms"]),
        ("JWT_SECRET_ARN", Some("JwtSecretArn"), &checks),
        ("JWT_TTL_SECONDS", Some("JwtTtlSeconds"), &checks),
        ("SMS_CODE_MAX_ATTEMPTS", Some("SmsCodeMaxAttempts"), &checks),
        ("SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY", Some("SmsCodeMaxFailuresPerMobilePerDay"), &checks),
        ("AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN", Some("AuthMaxAttemptsPerIpPer10Min"), &checks),
        ("PASSWORD_MIN_LENGTH", Some("PasswordMinLength"), &["register"]),
        ("PASSWORD_MAX_LENGTH", Some("PasswordMaxLength"), &["register"]),
        ("LOGIN_MAX_FAILURES", Some("LoginMaxFailures"), &["login"]),
        ("LOGIN_LOCK_SECONDS", Some("LoginLockSeconds"), &["login"]),
    ];
    let functions = functions();
    for (variable, parameter, users) in expected {
        let mut holders = BTreeSet::new();
        for function in functions.values() {
            if let Some(value) = environment(function).get(variable) {
                holders.insert(folder(function).to_owned());
                if let Some(parameter) = parameter {
                    let refs: Vec<String> = alternatives(value).iter().filter_map(referenced_parameter).collect();
                    assert_eq!(refs, [parameter], "{variable} comes from {parameter}");
                }
            }
        }
        assert_eq!(holders, set(users), "{variable}");
    }
}

fn resource(name: &str) -> Value {
    let value = template()["Resources"][name].clone();
    assert!(!value.is_null(), "no resource {name}");
    value
}

#[test]
fn the_pages_bucket_is_private_encrypted_and_versioned() {
    let bucket = resource("WebBucket");
    assert_eq!(bucket["Type"], "AWS::S3::Bucket");
    let props = &bucket["Properties"];
    for block in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
        assert_eq!(props["PublicAccessBlockConfiguration"][block], true, "{block}");
    }
    let sse = &props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"];
    assert_eq!(sse["SSEAlgorithm"], "AES256");
    assert_eq!(props["VersioningConfiguration"]["Status"], "Enabled");
    assert_eq!(props["OwnershipControls"]["Rules"][0]["ObjectOwnership"], "BucketOwnerEnforced", "no ACLs");

    let policy = resource("WebBucketPolicy");
    let statements = policy["Properties"]["PolicyDocument"]["Statement"].as_sequence().unwrap().clone();
    let allows: Vec<&Value> = statements.iter().filter(|s| s["Effect"] == "Allow").collect();
    assert_eq!(allows.len(), 1, "one reader");
    assert_eq!(allows[0]["Principal"]["Service"], "cloudfront.amazonaws.com");
    assert_eq!(allows[0]["Action"], "s3:GetObject");
    let source = &allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"];
    assert!(source.as_str().unwrap().ends_with(":distribution/${Site}"), "only this distribution: {source:?}");
}

#[test]
fn the_distribution_serves_pages_through_origin_access_control_and_the_api_uncached_under_user() {
    const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
    const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
    let oac = resource("WebOriginAccessControl");
    assert_eq!(oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"], "always");
    let config = resource("Site")["Properties"]["DistributionConfig"].clone();
    let origins = config["Origins"].as_sequence().unwrap();
    let web = origins.iter().find(|o| o["Id"] == "web").expect("web origin");
    assert_eq!(web["OriginAccessControlId"], "WebOriginAccessControl.Id");
    assert_eq!(web["DomainName"], "WebBucket.RegionalDomainName");
    let api = origins.iter().find(|o| o["Id"] == "api").expect("api origin");
    assert!(api["DomainName"].as_str().unwrap().starts_with("${Api}.execute-api."), "{api:?}");
    assert_eq!(api["CustomOriginConfig"]["OriginProtocolPolicy"], "https-only");

    assert_eq!(config["DefaultCacheBehavior"]["TargetOriginId"], "web");
    assert_eq!(config["DefaultCacheBehavior"]["ViewerProtocolPolicy"], "redirect-to-https");
    let behaviors = config["CacheBehaviors"].as_sequence().unwrap();
    assert_eq!(behaviors.len(), 1);
    let user = &behaviors[0];
    assert_eq!(user["PathPattern"], "/user/*");
    assert_eq!(user["TargetOriginId"], "api");
    assert_eq!(user["CachePolicyId"], CACHING_DISABLED);
    assert_eq!(user["OriginRequestPolicyId"], ALL_VIEWER_EXCEPT_HOST_HEADER);
    assert_eq!(user["ViewerProtocolPolicy"], "https-only", "a redirected POST would turn into a GET");
    assert!(strings(&user["AllowedMethods"]).contains(&"POST".to_owned()));
    for behavior in [&config["DefaultCacheBehavior"], user] {
        assert_eq!(behavior["ResponseHeadersPolicyId"], "SiteHeaders");
    }
    let site_url = &template()["Outputs"]["SiteUrl"]["Value"];
    assert_eq!(site_url, "https://${Site.DomainName}");
}

/// The Content-Security-Policy the distribution sends with `CaptchaProvider` = `provider`.
fn csp(provider: &str) -> String {
    let template = template();
    let policy = &resource("SiteHeaders")["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
        ["ContentSecurityPolicy"]["ContentSecurityPolicy"];
    assert_eq!(tag(policy).as_deref(), Some("Join"));
    let separator = policy[0].as_str().unwrap();
    let parts: Vec<String> = policy[1]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|part| match tag(part).as_deref() {
            None => part.as_str().unwrap().to_owned(),
            Some("FindInMap") => {
                assert_eq!(part[1], ref_to("CaptchaProvider"));
                let map = part[0].as_str().unwrap();
                template["Mappings"][map][provider][part[2].as_str().unwrap()].as_str().unwrap().to_owned()
            }
            Some(other) => panic!("unexpected !{other} in the CSP"),
        })
        .collect();
    parts.join(separator)
}

/// The hosts a CSP names.
fn hosts(csp: &str) -> BTreeSet<String> {
    csp.split([' ', ';']).filter(|w| w.starts_with("https://")).map(str::to_owned).collect()
}

#[test]
fn the_csp_allows_our_own_files_and_only_the_chosen_captcha_provider() {
    for provider in ["none", "geetest", "turnstile"] {
        let csp = csp(provider);
        for directive in ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"] {
            assert!(csp.contains(directive), "{provider}: {directive} in {csp}");
        }
        let script = csp.split("; ").find(|d| d.starts_with("script-src")).unwrap();
        assert!(!script.contains("unsafe"), "{provider}: no inline or eval scripts: {script}");
        let expected = match provider {
            "none" => set(&[]),
            "geetest" => set(&["https://static.geetest.com", "https://gcaptcha4.geetest.com"]),
            _ => set(&["https://challenges.cloudflare.com"]),
        };
        assert_eq!(hosts(&csp), expected, "{provider}: {csp}");
    }
}

#[test]
fn the_distribution_adds_hsts_nosniff_and_refuses_framing() {
    let headers = resource("SiteHeaders")["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"].clone();
    let hsts = &headers["StrictTransportSecurity"];
    assert!(hsts["AccessControlMaxAgeSec"].as_i64().unwrap() >= 31_536_000, "HSTS for at least a year");
    assert_eq!(hsts["IncludeSubdomains"], true);
    assert_eq!(headers["ContentTypeOptions"]["Override"], true, "X-Content-Type-Options: nosniff");
    assert_eq!(headers["FrameOptions"]["FrameOption"], "DENY");
}

fn env_json() -> serde_json::Value {
    let text = std::fs::read_to_string(workspace_root().join("events/env.json")).expect("events/env.json");
    serde_json::from_str(&text).expect("events/env.json is JSON")
}

#[test]
fn env_json_sets_every_variable_each_function_declares_and_none_that_sam_would_drop() {
    let env = env_json();
    let functions = functions();
    let listed: BTreeSet<String> = env.as_object().unwrap().keys().cloned().collect();
    assert_eq!(listed, functions.keys().cloned().collect(), "one entry per function, by logical id");
    for (name, function) in &functions {
        let declared: BTreeSet<String> = environment(function).into_keys().collect();
        let values = env[name].as_object().unwrap();
        let set_here: BTreeSet<String> = values.keys().cloned().collect();
        // sam local invoke overrides declared variables only, and passes an
        // undeclared one on silently never.
        assert_eq!(set_here, declared, "{name}");
        assert!(values.values().all(serde_json::Value::is_string), "{name}: values are strings");
    }
}

#[test]
fn env_json_points_every_function_at_moto_on_loopback() {
    let env = env_json();
    for (name, values) in env.as_object().unwrap() {
        assert_eq!(values["AWS_ENDPOINT_URL"], "http://127.0.0.1:5000", "{name}");
        assert_eq!(values["STORE"], "dynamodb", "{name}");
    }
    let template_globals = template()["Globals"]["Function"]["Environment"]["Variables"]["AWS_ENDPOINT_URL"].clone();
    assert_eq!(template_globals, ref_to("AWS::NoValue"), "no endpoint override once deployed");
}

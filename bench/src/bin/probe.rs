//! The bare reference function the benchmark compares ours with:
//! lambda_http and the DynamoDB client with the workspace's features and
//! TLS (rustls on ring), the client built once at cold start, one `GetItem`
//! per request. No logging, no configuration beyond `TABLE_NAME`; with
//! `PROBE_SECRET_ARN` it also reads that one secret from Secrets Manager
//! at init, as our functions that need a secret do.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let https = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https).load().await;
    if let Ok(arn) = std::env::var("PROBE_SECRET_ARN") {
        let secret = aws_sdk_secretsmanager::Client::new(&config).get_secret_value().secret_id(arn).send().await?;
        std::hint::black_box(secret.secret_string);
    }
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "signup".into());
    let (client, table) = (&client, table.as_str());
    run(service_fn(move |req: Request| async move {
        let key = format!("USER#{}", req.uri().path().trim_matches('/').rsplit('/').next().unwrap_or_default());
        let found = client
            .get_item()
            .table_name(table)
            .key("pk", AttributeValue::S(key))
            .consistent_read(true)
            .send()
            .await?
            .item
            .is_some();
        Ok::<_, Error>(
            Response::builder()
                .status(if found { 409 } else { 200 })
                .header("content-type", "application/json")
                .body(Body::Text(format!("{{\"registered\":{found}}}")))?,
        )
    }))
    .await
}

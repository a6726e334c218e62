//! The bare reference function the benchmark compares ours with:
//! lambda_http and the DynamoDB client with the workspace's features, the
//! client built once at cold start, one `GetItem` per request. No logging,
//! no configuration beyond `TABLE_NAME`.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
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

//! Lambda `send-sms`: POST /user/sms and GET /user/sms/{mobile} (the original client's alias).

use lambda_http::{run, service_fn, Error};
use signup::http::Endpoint;
use signup::lambda::Function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let function = Function::cold_start(Endpoint::SendSms).await?;
    run(service_fn(|req| function.handle(req))).await
}

//! Lambda `send-sms`: POST /user/sms and GET /user/sms/{mobile} (the original client's alias).

use lambda_http::{run, service_fn, Error};
use signup::http::Endpoint;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let state = signup::lambda::cold_start(Endpoint::SendSms).await?;
    run(service_fn(|req| signup::lambda::handle(&state, Endpoint::SendSms, req))).await
}

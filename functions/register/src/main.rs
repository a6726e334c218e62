//! Lambda `register`: POST /user/register.

use lambda_http::{run, service_fn, Error};
use signup::http::Endpoint;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let state = signup::lambda::cold_start(Endpoint::Register).await?;
    run(service_fn(|req| signup::lambda::handle(&state, Endpoint::Register, req))).await
}

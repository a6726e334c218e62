//! Lambda `login`: POST /user/login.

use lambda_http::{run, service_fn, Error};
use signup::http::Endpoint;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let state = signup::lambda::cold_start(Endpoint::Login).await?;
    run(service_fn(|req| signup::lambda::handle(&state, Endpoint::Login, req))).await
}

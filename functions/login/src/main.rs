//! Lambda `login`: POST /user/login.

use lambda_http::{run, service_fn, Error};
use signup::http::Endpoint;
use signup::lambda::Function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let function = Function::cold_start(Endpoint::Login).await?;
    run(service_fn(|req| function.handle(req))).await
}

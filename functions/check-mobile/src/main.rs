//! Lambda `check-mobile`: GET /user/mobile/{mobile}.

use lambda_http::{run, service_fn, Error};
use signup::http::Endpoint;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let state = signup::lambda::cold_start(Endpoint::CheckMobile).await?;
    run(service_fn(|req| signup::lambda::handle(&state, Endpoint::CheckMobile, req))).await
}

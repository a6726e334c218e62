//! Lambda `register`: POST /user/register.

use lambda_http::Error;
use signup::http::Endpoint;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    signup::lambda::run(Endpoint::Register).await
}

//! Lambda `register`: POST /user/register and POST /user/password/reset.

use lambda_http::Error;
use signup::lambda::function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    signup::lambda::run::<function::Register>().await
}

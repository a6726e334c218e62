//! Lambda `login`: POST /user/login, POST /user/login/sms and GET /user/me.

use lambda_http::Error;
use signup::lambda::function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    signup::lambda::run::<function::Login>().await
}

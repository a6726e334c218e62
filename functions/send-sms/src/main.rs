//! Lambda `send-sms`: POST /user/sms and GET /user/sms/{mobile} (the original client's alias).

use lambda_http::Error;
use signup::lambda::function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    signup::lambda::run::<function::SendSms>().await
}

//! Lambda `check-mobile`: GET /user/mobile/{mobile}.

use lambda_http::Error;
use signup::lambda::function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    signup::lambda::run::<function::CheckMobile>().await
}

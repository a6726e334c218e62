//! `cargo run --release -p local-api`: the whole API and the pages on 127.0.0.1:3000.

use std::process::ExitCode;
use std::sync::Arc;

use local_api::{App, LocalConfig};
use signup::config::{Mode, StoreKind};
use signup::store::DynamoStore;
use signup::State;

#[tokio::main]
async fn main() -> ExitCode {
    signup::telemetry::init(Mode::Local);
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("local-api cannot start: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = LocalConfig::from_env()?;
    let state = State::from_env(Mode::Local).await?;
    let settings = &state.settings;
    if settings.store == StoreKind::DynamoDb && config.create_table {
        DynamoStore::from_aws_env(settings.table_name.clone()).await.ensure_table().await?;
    }
    let listener =
        tokio::net::TcpListener::bind(config.addr).await.map_err(|e| format!("LOCAL_API_ADDR {}: {e}", config.addr))?;
    tracing::info!(
        "local API on http://{} (store: {:?}, SMS backend: {:?}); pages at /, /register, /login",
        listener.local_addr()?,
        settings.store,
        settings.sms_backend
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    local_api::serve(listener, Arc::new(App { state, config }), shutdown).await?;
    Ok(())
}

//! Starting the broker: open the store, bootstrap the first admin key,
//! serve until shutdown.

use std::future::Future;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;

use super::api::{AppState, router};
use super::auth::{mint, new_key_id};
use super::config::ServeConfig;
use super::store::Store;
use crate::api::KeyRole;

/// Opens the store and prepares the shared state; on a store with no keys
/// at all, mints the first admin key (see [`bootstrap`]).
pub async fn prepare(config: &ServeConfig) -> anyhow::Result<Arc<AppState>> {
    let store = Store::open(&config.store_url).await?;
    if store
        .key_count()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        == 0
    {
        bootstrap(&store, &config.bootstrap_key_path()).await?;
    }
    let sts = crate::sts::Sts::load(config.aws_endpoint_url.as_deref()).await;
    let retry = crate::sts::RetryPolicy {
        budget: std::time::Duration::from_secs(config.verify_retry_seconds),
        ..Default::default()
    };
    let principal = match &config.principal_arn {
        Some(p) => p.clone(),
        None => discover_principal(&sts).await?,
    };
    Ok(Arc::new(AppState::new(
        store,
        config.account.clone(),
        principal,
        sts,
        retry,
        !config.skip_verify_on_attach,
    )))
}

/// The principal from the broker's own AWS identity.
async fn discover_principal(sts: &crate::sts::Sts) -> anyhow::Result<crate::model::PrincipalArn> {
    let caller = sts.caller_arn().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot discover the broker's AWS principal with GetCallerIdentity ({e}); configure AWS \
             credentials or set --principal-arn / DEPUTY_AWS_PRINCIPAL_ARN"
        )
    })?;
    let principal = crate::sts::identity::principal_from_caller(&caller);
    tracing::info!(caller = %caller, principal = %principal, "discovered the broker's AWS principal");
    principal
        .parse()
        .map_err(|e: crate::model::Invalid| anyhow::anyhow!("{e}; set --principal-arn"))
}

/// The first admin key: written to a 0600 file and announced on stderr,
/// never logged (logs are shipped and kept; the file is for the operator).
async fn bootstrap(store: &Store, path: &Path) -> anyhow::Result<()> {
    let minted = mint(
        new_key_id(),
        KeyRole::Admin,
        None,
        Vec::new(),
        "bootstrap admin key".into(),
        None,
    );
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot write the bootstrap admin key to {} ({e}); remove the stale file or set \
                     --bootstrap-key-file",
                    path.display()
                )
            })?
    };
    writeln!(file, "{}", minted.token)?;
    file.sync_all()?;
    store
        .insert_key(&minted.stored)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "deputy: first start: created admin API key {} and wrote it to {} (mode 0600).\n\
         deputy: use it with `export DEPUTY_TOKEN=$(cat {})`, create named keys with \
         `deputy token create`, then revoke this one.",
        minted.stored.key.id,
        path.display(),
        path.display()
    );
    Ok(())
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// `deputy serve`.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let state = prepare(&config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    tracing::info!(
        address = %listener.local_addr()?,
        account = %config.account,
        principal = %state.principal,
        "deputy broker listening"
    );
    serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await?;
    Ok(())
}

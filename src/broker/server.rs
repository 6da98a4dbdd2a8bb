//! Starting the broker: open the store, bootstrap the first admin key,
//! serve (over TLS when given a certificate) until shutdown.

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::net::TcpListener;

use super::app::router;
use super::auth::{mint, new_key_id};
use super::config::{Migrate, ServeConfig};
use super::state::{AppState, Peer, Settings};
use super::store::{Store, StoreOptions};
use crate::wire::KeyRole;

/// Opens the store and prepares the shared state; on a store with no keys
/// at all, mints the first admin key (see [`bootstrap`]).
pub async fn prepare(config: &ServeConfig) -> anyhow::Result<Arc<AppState>> {
    let options = StoreOptions {
        acquire_timeout: std::time::Duration::from_secs(config.store_acquire_timeout),
        max_connections: config.store_max_connections,
        ..StoreOptions::default()
    };
    let store = Store::connect(&config.store_url, options).await?;
    match config.migrate {
        Migrate::Auto => {
            store.migrate().await?;
        }
        Migrate::Never => {
            let schema = store.schema().await?;
            if let Some(refusal) = schema.refusal() {
                anyhow::bail!(refusal);
            }
            if !schema.pending.is_empty() {
                anyhow::bail!(
                    "{} and --migrate is never: back the store up, run `deputy migrate`, then start \
                     the broker (or start it with --migrate auto)",
                    schema.summary()
                );
            }
        }
    }
    if store
        .key_count()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        == 0
    {
        let path = config.bootstrap_key_path().ok_or_else(|| {
            anyhow::anyhow!(
                "this PostgreSQL store has no API key yet, so this first start must write a \
                 bootstrap admin key: say where with --bootstrap-key-file (or \
                 DEPUTY_BOOTSTRAP_KEY_FILE), e.g. a path on a secrets volume"
            )
        })?;
        bootstrap(&store, &path, config.bootstrap_key_expires_in).await?;
    }
    if let Some(id) = store
        .only_bootstrap_admin(&crate::model::timestamp::now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        tracing::warn!(key_id = %id, "the bootstrap admin key is the only admin key: create named admin keys (`deputy token create --role admin`) and revoke it");
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
    if principal.kind() == crate::model::PrincipalKind::Account {
        if !config.allow_account_principal {
            anyhow::bail!(
                "the broker's AWS principal is {principal}, a whole account: a trust policy naming it \
                 trusts every principal of that account that its own policies allow, so each of them \
                 could act as deputy. Run the broker as an IAM role or user (set --principal-arn, or \
                 give it role or user credentials), or accept the risk with --allow-account-principal"
            );
        }
        tracing::warn!(principal = %principal, "the broker's principal is an account root (--allow-account-principal): every principal of that account allowed by its own policies can use the roles that trust deputy");
    }
    let canary = match &config.canary_role_arn {
        Some(role) => {
            let canary = crate::sts::canary::Canary::start(&sts, role.clone(), &principal)
                .await
                .map_err(|e| anyhow::anyhow!("--canary-role-arn: {e}"))?;
            tracing::info!(canary = %role, "verification probes with a canary principal: roles that trust deputy's whole account are refused");
            Some(canary)
        }
        None => {
            tracing::warn!(
                "no canary role (--canary-role-arn): verification cannot tell a role that trusts deputy's principal from one that trusts its whole AWS account, and every report says so. deploy/aws/ has a template that creates it; pass its ARN"
            );
            None
        }
    };
    Ok(Arc::new(AppState::new(
        store,
        config.account.clone(),
        principal,
        sts,
        canary,
        Settings {
            verify_retry: retry,
            verify_on_attach: !config.skip_verify_on_attach,
            reverify_interval: std::time::Duration::from_secs(config.reverify_interval),
            max_trust_policy_length: config.max_trust_policy_length,
            credentials_per_minute: config.credentials_rate_limit,
            https: config.serves_https(),
        },
        super::oidc::OidcVerifier::new(config.oidc_ca_file.as_deref())?,
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

/// The first admin key: written to a 0600 file; the log names the file and
/// the key's id, never its secret (logs are shipped and kept; the file is
/// for the operator).
/// Minted once per store: when brokers start together on an empty
/// database, one wins (a database guard) and the others remove the file
/// they wrote and go on.
async fn bootstrap(store: &Store, path: &Path, lifetime: Option<u64>) -> anyhow::Result<()> {
    let minted = admin_key("bootstrap admin key", lifetime);
    write_key_file(path, &minted.token).map_err(|e| {
        anyhow::anyhow!(
            "cannot write the bootstrap admin key to {} ({e}); remove the stale file or set \
             --bootstrap-key-file",
            path.display()
        )
    })?;
    let inserted = store
        .insert_bootstrap_key(
            &minted.stored,
            &crate::wire::AuditEvent::new(
                None,
                crate::model::audit::KEY_CREATE,
                &format!("key/{}", minted.stored.key.id),
            ),
        )
        .await;
    match inserted {
        Ok(true) => {}
        Ok(false) => {
            // Another broker bootstrapped this store meanwhile: its key is
            // the one, and this file holds a key that never existed.
            let _ = std::fs::remove_file(path);
            tracing::info!("another broker created the bootstrap admin key of this store");
            return Ok(());
        }
        Err(e) => {
            let _ = std::fs::remove_file(path);
            anyhow::bail!("cannot store the bootstrap admin key: {e}");
        }
    }
    // A log event, not a bare line on stderr, so JSON logs stay JSON; it
    // names the key and the file, never the key's secret.
    tracing::warn!(
        key_id = %minted.stored.key.id,
        file = %path.display(),
        "first start: created the bootstrap admin API key and wrote it to the file (mode 0600); \
         use it with `export DEPUTY_TOKEN_FILE=<file>`, create named keys with `deputy token \
         create`, then revoke this one"
    );
    Ok(())
}

/// A new admin key of the root space, expiring `lifetime` seconds from now when given.
pub(super) fn admin_key(description: &str, lifetime: Option<u64>) -> crate::broker::auth::Minted {
    let expires_at = lifetime.map(|s| {
        crate::model::timestamp::format(
            time::OffsetDateTime::now_utc() + time::Duration::seconds(s as i64),
        )
    });
    mint(
        new_key_id(),
        KeyRole::Admin,
        Some(crate::model::SpaceId::root()),
        None,
        Vec::new(),
        description.into(),
        expires_at,
    )
}

/// Writes a new key to a new file only its owner can read (its directory,
/// when created here, only its owner can enter); never over an existing
/// file.
pub(super) fn write_key_file(path: &Path, token: &str) -> std::io::Result<()> {
    let mut file = super::files::create_private(path)?;
    writeln!(file, "{token}")?;
    file.sync_all()
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
/// The background work (interrupted changes, periodic re-verification,
/// the counts of failed authentications) runs alongside and stops with
/// it; the open window's counts are written on the way out.
pub async fn serve<L>(
    listener: L,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener<Addr = SocketAddr>,
    for<'a> Peer: Connected<IncomingStream<'a, L>>,
{
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let interval = state.settings.reverify_interval;
    let background = tokio::spawn(super::service::verification::background(
        state.clone(),
        interval,
        async move {
            let _ = stop_rx.wait_for(|stop| *stop).await;
        },
    ));
    let mut stop_counts = stop_tx.subscribe();
    let counts = tokio::spawn(super::auth::write_failure_counts(
        state.clone(),
        async move {
            let _ = stop_counts.wait_for(|stop| *stop).await;
        },
    ));
    let mut stop_health = stop_tx.subscribe();
    let health = {
        let store = state.store.clone();
        tokio::spawn(async move {
            store
                .watch(async move {
                    let _ = stop_health.wait_for(|stop| *stop).await;
                })
                .await;
        })
    };
    let app = router(state).into_make_service_with_connect_info::<Peer>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    let _ = background.await;
    let _ = counts.await;
    let _ = health.await;
    served
}

/// `deputy serve`: serves until SIGTERM (`docker stop`, Kubernetes) or
/// SIGINT, then drains: `/readyz` answers 503 for `--shutdown-delay`, the
/// listener closes, and requests in flight get `--shutdown-grace` to
/// finish. With `--tls-cert`, SIGHUP reloads the certificate.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    // Read before anything else: a certificate that cannot be used should
    // stop the start, not surface once the store is migrated.
    let cert = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(super::tls::ServerCert::load(cert, key)?),
        _ => None,
    };
    let state = prepare(&config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    tracing::info!(
        version = crate::VERSION,
        address = %listener.local_addr()?,
        tls = cert.is_some(),
        account = %config.account,
        principal = %state.principal,
        "deputy broker listening"
    );
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let stopped = async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
    };
    let mut server = match cert {
        Some(cert) => {
            let tls = super::tls::TlsListener::new(listener, cert.server_config()?)?;
            if let Some(at) = cert.expires_at() {
                state.metrics.certificate_expires(at);
            }
            tokio::spawn(reload_on_hangup(cert, state.clone())?);
            tokio::spawn(serve(tls, state.clone(), stopped))
        }
        None => tokio::spawn(serve(listener, state.clone(), stopped)),
    };
    // Subscribed before readiness is announced, so a stop that follows at
    // once still drains.
    let terminated = termination()?;
    // Bound, migrated and serving: `systemctl start` returns (Type=notify).
    super::notify::ready();
    let signal = tokio::select! {
        served = &mut server => return Ok(served??),
        signal = terminated => signal,
    };
    super::notify::stopping();
    state
        .draining
        .store(true, std::sync::atomic::Ordering::SeqCst);
    tracing::info!(
        signal,
        delay_s = config.shutdown_delay,
        grace_s = config.shutdown_grace,
        "shutting down: /readyz answers 503, then requests in flight drain"
    );
    tokio::time::sleep(std::time::Duration::from_secs(config.shutdown_delay)).await;
    let _ = stop_tx.send(true);
    match tokio::time::timeout(
        std::time::Duration::from_secs(config.shutdown_grace),
        server,
    )
    .await
    {
        Ok(served) => served??,
        Err(_) => tracing::warn!(
            grace_s = config.shutdown_grace,
            "requests still in flight after --shutdown-grace; stopping anyway"
        ),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Reloads the certificate on every SIGHUP (the signal is subscribed to
/// before this returns, so none is missed once serving starts).
fn reload_on_hangup(
    cert: Arc<super::tls::ServerCert>,
    state: Arc<AppState>,
) -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(async move {
        while hangup.recv().await.is_some() {
            match cert.reload() {
                Ok(()) => {
                    if let Some(at) = cert.expires_at() {
                        state.metrics.certificate_expires(at);
                    }
                    tracing::info!("SIGHUP: reloaded the TLS certificate; new connections get it")
                }
                Err(e) => tracing::error!(error = %e, "SIGHUP: kept the TLS certificate in use"),
            }
        }
    })
}

/// The first SIGTERM or SIGINT, subscribed to before this returns.
fn termination() -> std::io::Result<impl Future<Output = &'static str>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    })
}

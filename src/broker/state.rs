//! The broker's shared state: what every request and background task
//! reads (the store, the broker's identity, STS, settings, counters), and
//! the address a request came from. It holds no logic of its own beyond
//! answering what it knows; the operations are in `service`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::net::TcpListener;

use super::failed_auth::FailedAuth;
use super::live::Live;
use super::metrics::Metrics;
use super::oidc::OidcVerifier;
use super::rate_limit::RateLimit;
use super::store::Store;
use super::tls::TlsListener;
use crate::model::{AccountName, PrincipalArn};
use crate::sts::canary::Canary;
use crate::sts::{RetryPolicy, Sts};
use crate::wire::Account;

/// How the broker verifies and what it emits, from `deputy serve`'s flags.
pub struct Settings {
    pub verify_retry: RetryPolicy,
    /// Verify roles when attaching (off only where no AWS is reachable).
    pub verify_on_attach: bool,
    /// How old a verification may get before the background task redoes
    /// it (zero: never).
    pub reverify_interval: std::time::Duration,
    /// The longest trust policy the broker emits or lets attachments need:
    /// the account's quota for a role trust policy.
    pub max_trust_policy_length: usize,
    /// Credential requests a minute per runner key or token subject (zero:
    /// no limit).
    pub credentials_per_minute: u32,
    /// Browsers reach the broker over HTTPS (it serves TLS, or its public
    /// URL is https://): the console's cookies are `Secure` and
    /// `__Host-`-prefixed, and every answer carries HSTS.
    pub https: bool,
}

pub struct AppState {
    pub store: Store,
    pub account: AccountName,
    pub principal: PrincipalArn,
    pub sts: Sts,
    /// The canary principal verification probes with, when configured.
    pub canary: Option<Canary>,
    pub settings: Settings,
    /// Validates OIDC ID tokens presented instead of runner keys.
    pub oidc: OidcVerifier,
    pub rate_limit: RateLimit,
    /// Failed authentications counted in the open window.
    pub failed_auth: FailedAuth,
    /// Set on SIGTERM/SIGINT: `/readyz` answers 503 while requests drain.
    pub draining: std::sync::atomic::AtomicBool,
    pub metrics: Metrics,
    /// Verifications running on this replica, for the console.
    pub live: Arc<Live>,
    /// Whether the broker runs on role credentials (sessions capped at 1 h),
    /// found out on first need.
    role_chaining: tokio::sync::OnceCell<bool>,
}

impl AppState {
    pub fn new(
        store: Store,
        account: AccountName,
        principal: PrincipalArn,
        sts: Sts,
        canary: Option<Canary>,
        settings: Settings,
        oidc: OidcVerifier,
    ) -> Self {
        let metrics = Metrics::new(store.pool_max());
        AppState {
            store,
            account,
            principal,
            sts,
            canary,
            rate_limit: RateLimit::per_minute(settings.credentials_per_minute),
            failed_auth: FailedAuth::default(),
            settings,
            oidc,
            draining: std::sync::atomic::AtomicBool::new(false),
            metrics,
            live: Arc::default(),
            role_chaining: tokio::sync::OnceCell::new(),
        }
    }

    /// True when the broker's own identity is an assumed role: AWS then caps
    /// the sessions it hands out at one hour (role chaining).
    pub async fn role_chaining(&self) -> bool {
        // Only an answer is cached: after a failed GetCallerIdentity the next
        // vend asks again instead of assuming "not chained" for good.
        let answer = self
            .role_chaining
            .get_or_try_init(|| async {
                let arn = self.sts.caller_arn().await?;
                let chained = crate::sts::identity::is_role_session(&arn);
                if chained {
                    tracing::warn!(caller = %arn, "the broker runs on role credentials: AWS caps the sessions it vends at 1 hour (role chaining)");
                }
                Ok::<_, crate::sts::StsError>(chained)
            })
            .await;
        match answer {
            Ok(chained) => *chained,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the broker's AWS identity; will ask again");
                false
            }
        }
    }

    pub fn account(&self) -> Account {
        Account {
            name: self.account.clone(),
            aws_principal_kind: self.principal.kind(),
            aws_principal_arn: self.principal.clone(),
            version: crate::VERSION.to_string(),
        }
    }
}

/// The address a request came from, as handlers see it (failed
/// authentications name it), over plain TCP or TLS alike.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

// One impl per listener: a blanket one over every listener would overlap
// axum's own for `TapIo`.
impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

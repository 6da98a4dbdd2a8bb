//! The HTTP API under `/v1`: one file per route group, thin handlers that
//! validate input through `model`, call the store, and record an audit
//! event for every change.
//!
//! [`routes`] is the single list of routes: the router is built from it,
//! and a test checks it against the generated OpenAPI document
//! ([`openapi`]), which is built from the handlers' `#[utoipa::path]`
//! attributes and the types in `crate::api`.

mod account;
pub(crate) mod attachments;
pub(crate) mod audit;
mod credentials;
mod health;
pub(crate) mod integrations;
pub(crate) mod keys;
pub mod openapi;
mod page;
mod request_id;
pub(crate) mod role_template;
pub(crate) mod runner_trusts;
pub(crate) mod stacks;
pub(crate) mod trust;
pub(crate) mod verify;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{MethodRouter, get};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::oidc::OidcVerifier;
use super::rate_limit::RateLimit;
use super::store::Store;
use crate::api::{Account, AuditEvent};
use crate::model::{AccountName, PrincipalArn};
use crate::sts::canary::Canary;
use crate::sts::{RetryPolicy, Sts};

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
    /// Mark the console's cookies `Secure`: the broker serves TLS.
    pub secure_cookies: bool,
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
    /// Set on SIGTERM/SIGINT: `/readyz` answers 503 while requests drain.
    pub draining: std::sync::atomic::AtomicBool,
    pub metrics: crate::broker::metrics::Metrics,
    /// Verifications running on this replica, for the console.
    pub live: Arc<crate::broker::live::Live>,
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
        let metrics = crate::broker::metrics::Metrics::new(store.pool_max());
        AppState {
            store,
            account,
            principal,
            sts,
            canary,
            rate_limit: RateLimit::per_minute(settings.credentials_per_minute),
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
        }
    }

    /// Runs a change and records it in the audit trail. The change gets
    /// its success event and writes it in its own transaction, so a
    /// committed change always has its event; a refused change is recorded
    /// here, with the problem code as outcome.
    async fn audited<T, F, Fut>(
        &self,
        caller: &Caller,
        action: &str,
        target: &str,
        change: F,
    ) -> ApiResult<T>
    where
        F: FnOnce(AuditEvent) -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let event = audit_event(Some(caller.key_id()), action, target);
        match change(event.clone()).await {
            Ok(v) => Ok(v),
            Err(e) => Err(self.refused(event, e).await),
        }
    }

    /// Records that the change `event` describes was refused with `e`, and
    /// hands `e` back.
    pub async fn refused(&self, event: AuditEvent, e: ApiError) -> ApiError {
        let recorded = self
            .store
            .record_audit(&AuditEvent {
                id: ulid::Ulid::new().to_string(),
                outcome: e.code().to_string(),
                detail: e.to_string(),
                ..event
            })
            .await;
        match recorded {
            Ok(()) => e,
            Err(store) => store,
        }
    }
}

/// A successful change's audit event, to be written with the change.
pub fn audit_event(key_id: Option<&str>, action: &str, target: &str) -> AuditEvent {
    AuditEvent::new(key_id, action, target)
}

type Route = (&'static str, Method, MethodRouter<Arc<AppState>>);

fn route(path: &'static str, method: Method, handler: MethodRouter<Arc<AppState>>) -> Route {
    (path, method, handler)
}

/// Every route the broker serves.
pub fn routes() -> Vec<Route> {
    use Method as M;
    let mut all = vec![
        route("/healthz", M::GET, get(health::healthz)),
        route("/readyz", M::GET, get(health::readyz)),
        route("/metrics", M::GET, get(health::metrics)),
        route("/v1/openapi.json", M::GET, get(health::openapi)),
        route("/v1/account", M::GET, get(account::get)),
    ];
    all.extend(stacks::routes());
    all.extend(integrations::routes());
    all.extend(attachments::routes());
    all.extend(keys::routes());
    all.extend(runner_trusts::routes());
    all.extend(trust::routes());
    all.extend(role_template::routes());
    all.push(route("/v1/audit", M::GET, get(audit::list)));
    all.push(route(
        "/v1/credentials",
        M::POST,
        axum::routing::post(credentials::issue),
    ));
    all.push(route(
        "/v1/integrations/{id}/worker-verification",
        M::POST,
        axum::routing::post(verify::worker_verification),
    ));
    all.push(route(
        "/v1/integrations/{id}/verify",
        M::POST,
        axum::routing::post(verify::verify),
    ));
    all
}

/// The router: routes merged by path, and a problem-details 404 for
/// anything else.
pub fn router(state: Arc<AppState>) -> Router {
    let mut by_path: BTreeMap<&str, MethodRouter<Arc<AppState>>> = BTreeMap::new();
    for (path, _, handler) in routes() {
        let merged = match by_path.remove(path) {
            Some(existing) => existing.merge(handler),
            None => handler,
        };
        by_path.insert(path, merged);
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    router
        .merge(crate::broker::console::router())
        .fallback(|uri: axum::http::Uri| async move { ApiError::not_found("route", uri.path()) })
        .method_not_allowed_fallback(|method: Method, uri: axum::http::Uri| async move {
            ApiError::MethodNotAllowed(format!(
                "{method} is not allowed on {}; see /v1/openapi.json",
                uri.path()
            ))
        })
        .layer(axum::middleware::map_response(no_store))
        .layer(axum::middleware::from_fn_with_state(state.clone(), counted))
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// Counts and times every request by its route template.
async fn counted(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    // Any token is a valid method to HTTP: only the ones routes use are
    // labels of their own.
    let method = match *request.method() {
        Method::GET | Method::POST | Method::PUT | Method::PATCH | Method::DELETE => {
            request.method().as_str().to_string()
        }
        _ => "other".to_string(),
    };
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state.metrics.request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// No cache (a browser's, a proxy's) may keep an answer: some carry
/// secrets (credentials, new API keys), and every one is about state that
/// changes. Only an answer that set its own policy keeps it (the console's
/// stylesheet and script, revalidated by ETag).
async fn no_store(mut response: axum::response::Response) -> axum::response::Response {
    response
        .headers_mut()
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(axum::http::HeaderValue::from_static("no-store"));
    response
}

/// Parses an input with a model type, blaming `field` when it fails.
fn parse<T: std::str::FromStr<Err = crate::model::Invalid>>(
    field: &str,
    text: &str,
) -> ApiResult<T> {
    text.parse()
        .map_err(|e: crate::model::Invalid| ApiError::invalid(field, e.0))
}

/// `Json` extractor whose failures are problem details (400) instead of
/// axum's plain-text rejections.
pub struct Json<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => Err(ApiError::Malformed(format!(
                "{}: {}",
                e.body_text(),
                "send a JSON body as documented in /v1/openapi.json"
            ))),
        }
    }
}

/// `Path` extractor with problem-details failures (a segment that is not
/// UTF-8 once decoded, say) instead of axum's plain-text rejections.
pub struct Path<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(ApiError::Malformed(e.body_text())),
        }
    }
}

/// `Query` extractor with problem-details failures.
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(ApiError::Malformed(e.body_text())),
        }
    }
}

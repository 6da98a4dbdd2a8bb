//! API keys and who is calling.
//!
//! A key reads `dpk_<id>_<secret>`: the id is public (it names the key in
//! listings and audit events), the secret is 32 random bytes shown once.
//! The store keeps only SHA-256 of the secret: a slow hash buys nothing for
//! 256 random bits, and a fast one keeps every request cheap.

use std::future::Future;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use super::failed_auth::{Failure, WINDOW};
use super::oidc::VerifiedToken;
use super::state::{AppState, Peer};
use super::store::StoredKey;
use crate::model::api_key::{PREFIX, SHAPE, split as parse};
use crate::model::secret::{random_hex, random_secret, sha256_hex};
use crate::model::timestamp::{self, now};
use crate::model::{Phase, SpaceId, StackId};
use crate::wire::{ApiKey, KeyRole};

/// A freshly minted key: what to store, and the token to show once.
pub struct Minted {
    pub stored: StoredKey,
    pub token: String,
}

/// A new key id: 16 hex digits, public (it names the key in lists and audit
/// events), chosen before the key is minted so a refused creation can be
/// audited under it too.
pub fn new_key_id() -> String {
    random_hex(8)
}

pub fn mint(
    id: String,
    role: KeyRole,
    space_id: Option<SpaceId>,
    stack_id: Option<StackId>,
    phases: Vec<Phase>,
    description: String,
    expires_at: Option<String>,
) -> Minted {
    let secret = random_secret();
    Minted {
        token: format!("{PREFIX}{id}_{secret}"),
        stored: StoredKey {
            secret_hash: hash(&secret),
            key: ApiKey {
                id,
                role,
                space_id,
                stack_id,
                phases,
                description,
                created_at: now(),
                expires_at,
                last_used_at: None,
                revoked_at: None,
            },
        },
    }
}

pub(crate) fn hash(secret: &str) -> String {
    sha256_hex(secret, 32)
}

/// Compares without an early exit, so timing does not reveal how much of a
/// guessed hash matched.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is
/// case-insensitive (RFC 9110), so `bearer` and `BEARER` work too.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key: ApiKey,
}

impl Caller {
    pub fn key_id(&self) -> &str {
        &self.key.id
    }
}

/// A caller holding a key that manages the registry (`admin`, `write` or
/// `read`); runner keys get 403. What the key may do where is each
/// operation's to ask (`service::access`).
pub struct Member(pub Caller);

/// The bearer token of a request, or why there is none.
fn presented(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthenticated(
                "no API key: send `Authorization: Bearer dpk_...` (create keys with `deputy token create`)".into(),
            )
        })?;
    header.to_str().ok().and_then(bearer_token).ok_or_else(|| {
        ApiError::Unauthenticated("the Authorization header must be `Bearer dpk_...`".into())
    })
}

/// Checks an API key against the store.
pub(crate) async fn authenticate_key(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let (id, secret) = parse(token).ok_or_else(|| {
        ApiError::Unauthenticated(format!("malformed API key: keys look like {SHAPE}"))
    })?;
    let unknown = || ApiError::Unauthenticated("unknown API key".into());
    let stored = state.store.key(id).await?.ok_or_else(unknown)?;
    if !same(&stored.secret_hash, &hash(secret)) {
        return Err(unknown());
    }
    let at = now();
    usable(&stored.key, &at)?;
    // Record use at most once a minute, so a busy key does not turn every
    // read into a write.
    let stale_before = minute_ago();
    if stored
        .key
        .last_used_at
        .as_deref()
        .is_none_or(|used| used < stale_before.as_str())
    {
        state.store.touch_key(id, &at, &stale_before).await?;
    }
    Ok(Caller { key: stored.key })
}

/// Refuses a key that was revoked or has expired at `at`.
pub(crate) fn usable(key: &ApiKey, at: &str) -> Result<(), ApiError> {
    let id = &key.id;
    if key.revoked_at.is_some() {
        return Err(ApiError::Unauthenticated(format!(
            "API key {id} was revoked"
        )));
    }
    if key.expires_at.as_deref().is_some_and(|exp| exp <= at) {
        return Err(ApiError::Unauthenticated(format!(
            "API key {id} has expired; create a new one"
        )));
    }
    Ok(())
}

/// A failed authentication leaves a trace: an audit event and a warning
/// with the key id (when the presented text has one) and the source
/// address, never the secret, so use of a leaked or revoked key is seen.
/// Failures are counted per source and reason (see
/// [`super::failed_auth`]), so a flood of forged keys costs a few rows. A
/// request without any Authorization header is only refused: it holds no
/// credential to trace.
async fn traced(state: &AppState, parts: &Parts, token: &str, e: ApiError) -> ApiError {
    trace_failure(state, &parts.extensions, token, e).await
}

/// [`traced`] for a key presented some other way than in a header (the
/// console's sign-in form).
pub(crate) async fn trace_failure(
    state: &AppState,
    request: &axum::http::Extensions,
    token: &str,
    e: ApiError,
) -> ApiError {
    if !matches!(e, ApiError::Unauthenticated(_)) {
        return e;
    }
    // The address, not the port: each connection has a port of its own.
    let source = request
        .get::<axum::extract::ConnectInfo<Peer>>()
        .map(|c| c.0.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let key_id = parse(token).map(|(id, _)| id);
    let kind = if token.starts_with(PREFIX) {
        "API key"
    } else {
        "ID token"
    };
    let reason = e.to_string();
    let failure = Failure {
        source: &source,
        key_id,
        kind,
        reason: &reason,
    };
    let Some(event) = state.failed_auth.record(&failure) else {
        return e;
    };
    tracing::warn!(key_id = key_id.unwrap_or("-"), %source, reason = %event.detail, "failed authentication with an {kind} (repeats within a minute are counted, not logged)");
    match state.store.record_audit(&event).await {
        Ok(()) => e,
        Err(store) => store,
    }
}

/// Writes the counted repeats of failed authentications each time a
/// window closes, until `stop` completes, and once more then.
pub async fn write_failure_counts(state: Arc<AppState>, stop: impl Future<Output = ()>) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + WINDOW, WINDOW);
    tokio::pin!(stop);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            () = &mut stop => true,
        };
        for event in state.failed_auth.close_window() {
            tracing::warn!(key_id = event.key_id.as_deref().unwrap_or("-"), source = event.source.as_deref().unwrap_or("-"), count = event.count, reason = %event.detail, "failed authentications repeated");
            if let Err(e) = state.store.record_audit(&event).await {
                tracing::error!(error = %e, "cannot write the count of failed authentications");
            }
        }
        if stopping {
            return;
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let token = presented(parts)?;
        match authenticate_key(state, token).await {
            Ok(caller) => Ok(caller),
            Err(e) => Err(traced(state, parts, token, e).await),
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Member {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        Member::of(Caller::from_request_parts(parts, state).await?)
    }
}

impl Member {
    /// The caller, unless its key is a runner key.
    pub(crate) fn of(caller: Caller) -> Result<Member, ApiError> {
        match caller.key.role {
            KeyRole::Runner => Err(ApiError::Forbidden(format!(
                "API key {} is a runner key for stack {}; this route needs an admin, write or \
                 read key",
                caller.key.id,
                caller.key.stack_id.as_ref().map_or("?", |s| s.as_str())
            ))),
            _ => Ok(Member(caller)),
        }
    }
}

/// Who asks for credentials: a runner key (its stack and phases), or an
/// OIDC ID token that passed validation. Which runner trust a token gets
/// depends on the stack and phase it asks for, so the handler decides
/// that. Admin keys get 403: credentials go to runs, not to people
/// managing the registry.
pub enum Runner {
    Key { key: ApiKey, stack_id: StackId },
    Token(VerifiedToken),
}

impl FromRequestParts<Arc<AppState>> for Runner {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let token = presented(parts)?;
        if !token.starts_with(PREFIX) && token.split('.').count() == 3 {
            let verified = state
                .oidc
                .verify(token, |issuer| async move {
                    state.store.runner_trusts_of_issuer(&issuer).await
                })
                .await;
            return match verified {
                Ok(t) => Ok(Runner::Token(t)),
                Err(e) => Err(traced(state, parts, token, e).await),
            };
        }
        let caller = match authenticate_key(state, token).await {
            Ok(caller) => caller,
            Err(e) => return Err(traced(state, parts, token, e).await),
        };
        match (caller.key.role, caller.key.stack_id.clone()) {
            (KeyRole::Runner, Some(stack_id)) => Ok(Runner::Key {
                key: caller.key,
                stack_id,
            }),
            _ => Err(ApiError::Forbidden(
                "credentials are issued to runner keys and to OIDC ID tokens a runner trust \
                 accepts: create a key with `deputy token create --stack STACK --phase PHASE`, or \
                 a trust with `deputy runner-trust create`"
                    .into(),
            )),
        }
    }
}

fn minute_ago() -> String {
    timestamp::format(time::OffsetDateTime::now_utc() - time::Duration::minutes(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_parse_back_and_only_the_hash_is_kept() {
        let m = mint(
            new_key_id(),
            KeyRole::Admin,
            Some(SpaceId::root()),
            None,
            vec![],
            String::new(),
            None,
        );
        let (id, secret) = parse(&m.token).unwrap();
        assert_eq!(id, m.stored.key.id);
        assert!(same(&m.stored.secret_hash, &hash(secret)));
        assert!(!m.stored.secret_hash.contains(secret));
        assert!(parse("dpk_short_x").is_none());
        assert_eq!(bearer_token("bearer dpk_a"), Some("dpk_a"));
        assert_eq!(bearer_token("BEARER  dpk_a "), Some("dpk_a"));
        assert_eq!(bearer_token("Basic dpk_a"), None);
        assert!(parse("Bearer x").is_none());
    }
}

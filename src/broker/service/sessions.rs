//! Console sessions: an admin key signs in once and the browser holds a
//! random session secret in a cookie; the store keeps only its hash and
//! the key it stands for. Opening and closing are audited.

use super::super::auth::{self, Caller, Member};
use super::super::error::{ApiError, ApiResult};
use super::super::state::AppState;
use super::refused;
use crate::model::secret::random_secret;
use crate::model::timestamp::{self, now};
use crate::wire::{AuditEvent, KeyRole};

/// A session lasts a working day, or until its key expires if sooner.
const LIFETIME: time::Duration = time::Duration::hours(8);

/// A session just opened: the secret for the cookie (shown this once) and
/// how many seconds it lasts.
pub struct Opened {
    pub secret: String,
    pub seconds: i64,
}

/// A session found by its secret: the admin it stands for, and the hash
/// that names it in the store.
pub struct Session {
    pub admin: Caller,
    pub id_hash: String,
}

/// Opens a session for an authenticated `caller`; runner keys are refused
/// (audited): they only get credentials for runs.
pub async fn open(state: &AppState, caller: &Caller) -> ApiResult<Opened> {
    let event = AuditEvent::new(
        Some(caller.key_id()),
        crate::model::audit::CONSOLE_SIGN_IN,
        &format!("key/{}", caller.key_id()),
    );
    if caller.key.role == KeyRole::Runner {
        let e = ApiError::Forbidden(
            "runner keys cannot sign in to the console: they only get credentials for runs".into(),
        );
        return Err(refused(state, event, e).await);
    }
    let opened = time::OffsetDateTime::now_utc();
    let mut ends = opened + LIFETIME;
    if let Some(key_end) = caller.key.expires_at.as_deref().and_then(timestamp::parse) {
        ends = ends.min(key_end);
    }
    let secret = random_secret();
    state
        .store
        .open_session(
            &auth::hash(&secret),
            caller.key_id(),
            &timestamp::format(opened),
            &timestamp::format(ends),
            &event,
        )
        .await?;
    Ok(Opened {
        secret,
        seconds: (ends - opened).whole_seconds(),
    })
}

/// The session `secret` opened, while it and its key are still usable.
pub async fn find(state: &AppState, secret: &str) -> ApiResult<Option<Session>> {
    let id_hash = auth::hash(secret);
    let at = now();
    let Some(key_id) = state.store.session_key(&id_hash, &at).await? else {
        return Ok(None);
    };
    let Some(stored) = state.store.key(&key_id).await? else {
        return Ok(None);
    };
    if auth::usable(&stored.key, &at).is_err() {
        return Ok(None);
    }
    Ok(Member::of(Caller { key: stored.key })
        .ok()
        .map(|Member(admin)| Session { admin, id_hash }))
}

/// Closes `session` (signing out), audited.
pub async fn close(state: &AppState, session: &Session) -> ApiResult<()> {
    let event = AuditEvent::new(
        Some(session.admin.key_id()),
        crate::model::audit::CONSOLE_SIGN_OUT,
        &format!("key/{}", session.admin.key_id()),
    );
    state.store.close_session(&session.id_hash, &event).await
}

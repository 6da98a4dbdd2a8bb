//! One error type for the whole API, mapped to an HTTP status and an
//! `application/problem+json` body ([`crate::wire::Problem`]) in exactly one
//! place.
//!
//! Every problem carries a stable [`ProblemCode`] that clients (the
//! provider, the CLI) match on, the `field` it is about when there is one,
//! and a `detail` that says what to do. Internal errors are logged with
//! their cause and answered with a generic message: causes can hold SQL or
//! paths.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::wire::{Problem, ProblemCode, VerifyReport};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be read at all (bad JSON, bad query).
    #[error("{0}")]
    Malformed(String),
    /// 401: no key, or a key that is unknown, revoked or expired.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: a valid key that may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 405: the path exists, the method does not.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 404.
    #[error("{what} {id:?} does not exist")]
    NotFound { what: &'static str, id: String },
    /// 404 in its own words: what is missing and what to do about it.
    #[error("{0}")]
    Missing(String),
    /// 409: the request conflicts with what exists.
    #[error("{detail}")]
    Conflict {
        code: ProblemCode,
        detail: String,
        /// The verification report, for `verification_failed`.
        report: Option<Box<VerifyReport>>,
    },
    /// 422: a field's value breaks a rule.
    #[error("{detail}")]
    Invalid { field: String, detail: String },
    /// 429: over the per-caller rate limit; ask again after this many
    /// seconds.
    #[error("{detail}")]
    RateLimited { retry_after: u64, detail: String },
    /// 502: the issuer of a presented OIDC token did not serve its keys.
    #[error("{0}")]
    IssuerUnavailable(String),
    /// 503: the store does not answer. Logged with its cause (which may
    /// name hosts); the client is told to retry.
    #[error(
        "the broker's store does not answer right now; nothing was changed: retry in a few seconds"
    )]
    StoreUnavailable(String),
    /// 503: the store answers but refuses writes (see [`refuses_writes`]):
    /// as [`ApiError::StoreUnavailable`] for the client; the answer
    /// carries [`RefusedWrite`] so the broker marks its store unwritable.
    #[error(
        "the broker's store cannot write right now; nothing was changed: retry in a few seconds"
    )]
    StoreCannotWrite(String),
    /// 500: logged, never described to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: field.into(),
            detail: detail.into(),
        }
    }

    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        ApiError::NotFound {
            what,
            id: id.into(),
        }
    }

    pub fn conflict(code: ProblemCode, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
            report: None,
        }
    }

    /// A failed verification: 409 with the report and its fix.
    pub fn verification_failed(report: VerifyReport) -> Self {
        ApiError::Conflict {
            code: ProblemCode::VerificationFailed,
            detail: report.error.clone(),
            report: Some(Box::new(report)),
        }
    }

    pub fn code(&self) -> ProblemCode {
        match self {
            ApiError::Malformed(_) => ProblemCode::MalformedRequest,
            ApiError::Unauthenticated(_) => ProblemCode::Unauthenticated,
            ApiError::Forbidden(_) => ProblemCode::Forbidden,
            ApiError::MethodNotAllowed(_) => ProblemCode::MethodNotAllowed,
            ApiError::NotFound { .. } | ApiError::Missing(_) => ProblemCode::NotFound,
            ApiError::Conflict { code, .. } => *code,
            ApiError::Invalid { .. } => ProblemCode::InvalidField,
            ApiError::RateLimited { .. } => ProblemCode::RateLimited,
            ApiError::IssuerUnavailable(_) => ProblemCode::IssuerUnavailable,
            ApiError::StoreUnavailable(_) | ApiError::StoreCannotWrite(_) => {
                ProblemCode::StoreUnavailable
            }
            ApiError::Internal(_) => ProblemCode::Internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotFound { .. } | ApiError::Missing(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::IssuerUnavailable(_) => StatusCode::BAD_GATEWAY,
            ApiError::StoreUnavailable(_) | ApiError::StoreCannotWrite(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let code = self.code();
        let detail = match self {
            ApiError::Internal(_) => {
                "The broker hit an internal error; its log has the cause.".to_string()
            }
            other => other.to_string(),
        };
        Problem {
            kind: format!("https://deputy.dev/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            code,
            detail,
            field: match self {
                ApiError::Invalid { field, .. } => Some(field.clone()),
                _ => None,
            },
            report: match self {
                ApiError::Conflict { report, .. } => report.as_deref().cloned(),
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(%cause, "request failed"),
            ApiError::StoreUnavailable(cause) | ApiError::StoreCannotWrite(cause) => {
                if let Some(unlogged) = store_refusal_to_log() {
                    tracing::warn!(%cause, refused_since_last_logged = unlogged, "request refused: the store cannot serve it (logged every 10 s at most)");
                }
            }
            _ => {}
        }
        let mut response = (self.status(), axum::Json(self.problem())).into_response();
        // For the metrics layer, which counts problems an operator watches
        // and tells the store of refused writes.
        response.extensions_mut().insert(self.code());
        if matches!(self, ApiError::StoreCannotWrite(_)) {
            response.extensions_mut().insert(RefusedWrite);
        }
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/problem+json"),
        );
        let retry_after = match &self {
            ApiError::RateLimited { retry_after, .. } => Some(*retry_after),
            ApiError::StoreUnavailable(_) | ApiError::StoreCannotWrite(_) => {
                Some(STORE_RETRY_AFTER)
            }
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

/// Marks an answer refused because the store refused a write.
#[derive(Clone, Copy, Debug)]
pub struct RefusedWrite;

/// During an outage every request is refused alike: its cause is logged
/// every [`STORE_LOG_EVERY`] seconds, with the count of refusals between.
/// Process-wide, like the outage (the health check logs when it starts
/// and ends).
static STORE_REFUSAL_LOGGED_AT: AtomicU64 = AtomicU64::new(0);
static STORE_REFUSALS_UNLOGGED: AtomicU64 = AtomicU64::new(0);
const STORE_LOG_EVERY: u64 = 10;

/// `Some(refusals not logged since the last)` when this one is logged.
fn store_refusal_to_log() -> Option<u64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = STORE_REFUSAL_LOGGED_AT.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= STORE_LOG_EVERY
        && STORE_REFUSAL_LOGGED_AT
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        Some(STORE_REFUSALS_UNLOGGED.swap(0, Ordering::Relaxed))
    } else {
        STORE_REFUSALS_UNLOGGED.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// When a client should ask again after a 503 for the store: the store's
/// health is checked every second.
const STORE_RETRY_AFTER: u64 = 2;

impl From<sqlx::Error> for ApiError {
    /// The store not answering (no connection within the acquire timeout,
    /// a connection lost, TLS to it failing) or refusing every write (see
    /// [`refuses_writes`]) is a 503 the client may retry; anything else
    /// about the store is an internal error.
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => ApiError::StoreUnavailable(e.to_string()),
            // SQLSTATE classes 08 (connection exception) and 57 (operator
            // intervention: a server shutting down or starting up).
            sqlx::Error::Database(ref d)
                if d.code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57")) =>
            {
                ApiError::StoreUnavailable(e.to_string())
            }
            ref refused if refuses_writes(refused) => ApiError::StoreCannotWrite(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Whether `e` says the store refuses changes, rather than a change being
/// wrong: SQLite's read-only database, I/O error, full disk or file it
/// cannot open (the primary code is the low byte of the extended one);
/// PostgreSQL's disk full (53100) and read-only transaction (25006, a hot
/// standby). Not PostgreSQL's other resource errors (too many
/// connections, out of memory): those pass, and say nothing of writing.
pub fn refuses_writes(e: &sqlx::Error) -> bool {
    let Some(code) = e.as_database_error().and_then(|d| d.code()) else {
        return false;
    };
    match code.parse::<u32>() {
        Ok(sqlite) if code.len() <= 4 => matches!(sqlite & 0xff, 8 | 10 | 13 | 14),
        _ => code == "53100" || code == "25006",
    }
}

/// True when `e` is a unique or primary-key violation, which the store turns
/// into a 409 with words that fit the operation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| matches!(d.kind(), sqlx::error::ErrorKind::UniqueViolation))
}

pub type ApiResult<T> = Result<T, ApiError>;

//! One error type for the whole API, mapped to an HTTP status and an
//! `application/problem+json` body in exactly one place.
//!
//! Every problem carries a stable `code` that clients (the provider, the CLI)
//! can match on, the `field` it is about when there is one, and a `detail`
//! that says what to do. Internal errors are logged with their cause and
//! answered with a generic message: causes can hold SQL or paths.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

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
    /// 409: the request conflicts with what exists.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// 422: a field's value breaks a rule.
    #[error("{detail}")]
    Invalid { field: String, detail: String },
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

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
        }
    }
}

/// The body of every error answer (RFC 9457 problem details).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable, machine-matchable.
    pub code: String,
    /// What went wrong and what to do about it.
    pub detail: String,
    /// JSON path of the field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
}

impl ApiError {
    pub fn problem(&self) -> Problem {
        let (status, code, title, field) = match self {
            ApiError::Malformed(_) => (
                StatusCode::BAD_REQUEST,
                "malformed_request",
                "Malformed request",
                None,
            ),
            ApiError::Unauthenticated(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Unauthenticated",
                None,
            ),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden", None),
            ApiError::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
                None,
            ),
            ApiError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found", "Not found", None),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, *code, "Conflict", None),
            ApiError::Invalid { field, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "Invalid field",
                Some(field.clone()),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                None,
            ),
        };
        let detail = match self {
            ApiError::Internal(_) => {
                "The broker hit an internal error; its log has the cause.".to_string()
            }
            other => other.to_string(),
        };
        Problem {
            kind: format!("https://deputy.dev/problems/{code}"),
            title: title.to_string(),
            status: status.as_u16(),
            code: code.to_string(),
            detail,
            field,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// True when `e` is a unique or primary-key violation, which the store turns
/// into a 409 with words that fit the operation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| matches!(d.kind(), sqlx::error::ErrorKind::UniqueViolation))
}

pub type ApiResult<T> = Result<T, ApiError>;

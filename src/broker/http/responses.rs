//! The API's error answers as OpenAPI responses, one type per status: each
//! handler lists the ones it can return, so each route documents exactly
//! the statuses it can answer. The body is always problem details.

use utoipa::IntoResponses;

use crate::wire::Problem;

/// the request could not be read (bad JSON, unknown field, bad query).
#[derive(IntoResponses)]
#[response(status = 400, content_type = "application/problem+json")]
pub struct Malformed(#[allow(dead_code)] Problem);

/// no API key, or one that is unknown, revoked or expired.
#[derive(IntoResponses)]
#[response(status = 401, content_type = "application/problem+json")]
pub struct Unauthenticated(#[allow(dead_code)] Problem);

/// the key may not do this (a runner key on a registry route, or an
/// admin key asking for credentials).
#[derive(IntoResponses)]
#[response(status = 403, content_type = "application/problem+json")]
pub struct Forbidden(#[allow(dead_code)] Problem);

/// the object does not exist.
#[derive(IntoResponses)]
#[response(status = 404, content_type = "application/problem+json")]
pub struct NotFound(#[allow(dead_code)] Problem);

/// the request conflicts with what exists; `code` says how.
#[derive(IntoResponses)]
#[response(status = 409, content_type = "application/problem+json")]
pub struct Conflict(#[allow(dead_code)] Problem);

/// a field breaks a rule; `field` names it and `detail` says the fix.
#[derive(IntoResponses)]
#[response(status = 422, content_type = "application/problem+json")]
pub struct Invalid(#[allow(dead_code)] Problem);

/// too many credential requests from this runner key or token subject.
#[derive(IntoResponses)]
#[response(
    status = 429,
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds until the next request is allowed."))
)]
pub struct RateLimited(#[allow(dead_code)] Problem);

/// the issuer of the presented OIDC ID token did not serve its signing
/// keys.
#[derive(IntoResponses)]
#[response(status = 502, content_type = "application/problem+json")]
pub struct IssuerUnavailable(#[allow(dead_code)] Problem);

/// The header every create takes: a retry with the same key and body gets
/// the first attempt's object (`Idempotent-Replayed: true`) instead of a
/// second one; with another body, a 422 on `Idempotency-Key`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct Idempotency {
    /// 16 to 255 visible ASCII characters, random per create (a UUID or a
    /// ULID), sent again unchanged on a retry. Remembered for 24 hours.
    #[param(rename = "Idempotency-Key")]
    #[allow(dead_code)]
    idempotency_key: Option<String>,
}

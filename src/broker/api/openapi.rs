//! The OpenAPI document, generated from the code: the wire types in
//! `crate::api` give the schemas, the `#[utoipa::path]` attribute on each
//! handler gives its route, parameters and every status it can answer. The
//! broker serves it at `/v1/openapi.json`, `deputy openapi` prints it, and
//! `docs/openapi.json` is a checked-in copy that a test keeps identical.
//!
//! Error answers are listed per route with the response types below, one
//! per status, so each route documents exactly the statuses it can return.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::api::Problem;

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

/// API keys travel as bearer tokens.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "An API key `dpk_<id>_<secret>` (`deputy token create`); on `POST \
                 /v1/credentials` also an OIDC ID token that a runner trust accepts.",
            ))
            .build();
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("apiKey", SecurityScheme::Http(scheme));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "deputy broker API",
        description = "Registry of stacks, AWS integrations, attachments, API keys and audit, and \
                       short-lived AWS credentials for runs. Errors are application/problem+json \
                       with a stable `code`, the `field` at fault and a `detail` that says what to do.",
        license(name = "MPL-2.0"),
    ),
    security(("apiKey" = [])),
    modifiers(&BearerAuth),
    paths(
        super::health::healthz,
        super::health::readyz,
        super::health::metrics,
        super::health::openapi,
        super::account::get,
        super::stacks::list,
        super::stacks::create,
        super::stacks::read,
        super::stacks::replace,
        super::stacks::remove,
        super::integrations::list,
        super::integrations::create,
        super::integrations::by_name,
        super::integrations::read,
        super::integrations::replace,
        super::integrations::remove,
        super::attachments::of_integration,
        super::attachments::create,
        super::attachments::read,
        super::attachments::update,
        super::attachments::remove,
        super::attachments::of_stack,
        super::trust::external_ids_route,
        super::trust::trust_policy,
        super::role_template::role_template,
        super::verify::verify,
        super::verify::worker_verification,
        super::keys::list,
        super::keys::create,
        super::keys::revoke,
        super::runner_trusts::list,
        super::runner_trusts::create,
        super::runner_trusts::read,
        super::runner_trusts::replace,
        super::runner_trusts::remove,
        super::audit::list,
        super::credentials::issue,
    ),
    components(schemas(Problem)),
)]
pub struct ApiDoc;

/// The document as served and checked in: pretty JSON with a final newline.
pub fn document() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    text.push('\n');
    text
}

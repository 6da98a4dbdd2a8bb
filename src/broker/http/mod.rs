//! The HTTP API under `/v1`: one file per route group, thin handlers that
//! extract the request, call one `service` operation and shape the answer
//! (status, JSON body).
//!
//! [`api`] is the single list of routes: each handler's `#[utoipa::path]`
//! attribute gives its method, path, parameters and every status it can
//! answer, and that one list makes both the router and the OpenAPI
//! document ([`document`]), so a route cannot be served undocumented or
//! documented unserved.

mod account;
mod attachments;
mod audit;
mod credentials;
mod health;
mod integrations;
mod keys;
mod responses;
mod role_template;
mod runner_trusts;
mod spaces;
mod stacks;
mod trust_policies;
mod verify;

use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::idempotency::Created;
use super::state::AppState;
use crate::wire::Problem;

/// The answer to a create: `status` and the object, marked
/// `Idempotent-Replayed: true` when an earlier attempt with the request's
/// Idempotency-Key made it.
fn created<T>(
    status: axum::http::StatusCode,
    c: Created<T>,
) -> (axum::http::StatusCode, axum::http::HeaderMap, axum::Json<T>) {
    let mut headers = axum::http::HeaderMap::new();
    if c.replayed {
        headers.insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    (status, headers, axum::Json(c.value))
}

/// API keys travel as bearer tokens.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
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

/// What the document says besides its routes.
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
    components(schemas(Problem)),
)]
struct ApiDoc;

/// Every route the broker's API serves, with its documentation. One
/// `routes!` per path: handlers of one path share it.
pub fn api() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(health::openapi))
        .routes(routes!(account::get))
        .routes(routes!(spaces::list, spaces::create))
        .routes(routes!(spaces::read, spaces::replace, spaces::remove))
        .routes(routes!(stacks::list, stacks::create))
        .routes(routes!(stacks::read, stacks::replace, stacks::remove))
        .routes(routes!(integrations::list, integrations::create))
        .routes(routes!(integrations::by_name))
        .routes(routes!(
            integrations::read,
            integrations::replace,
            integrations::remove
        ))
        .routes(routes!(attachments::of_integration, attachments::create))
        .routes(routes!(
            attachments::read,
            attachments::update,
            attachments::remove
        ))
        .routes(routes!(attachments::of_stack))
        .routes(routes!(trust_policies::external_ids))
        .routes(routes!(trust_policies::trust_policy))
        .routes(routes!(role_template::role_template))
        .routes(routes!(verify::verify))
        .routes(routes!(verify::worker_verification))
        .routes(routes!(keys::list, keys::create))
        .routes(routes!(keys::revoke))
        .routes(routes!(runner_trusts::list, runner_trusts::create))
        .routes(routes!(
            runner_trusts::read,
            runner_trusts::replace,
            runner_trusts::remove
        ))
        .routes(routes!(audit::list))
        .routes(routes!(credentials::issue))
}

/// The API's router, made from [`api`].
pub fn router() -> Router<Arc<AppState>> {
    api().split_for_parts().0
}

/// The OpenAPI document as served and checked in: pretty JSON with a final
/// newline.
pub fn document() -> String {
    let mut text = api()
        .into_openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    text.push('\n');
    text
}

/// Every (path template, method) the API serves, from [`api`]: what a test
/// walks to check that each route asks for the right key.
pub fn operations() -> Vec<(String, Method)> {
    let doc = api().into_openapi();
    let mut all = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            (Method::GET, item.get.is_some()),
            (Method::PUT, item.put.is_some()),
            (Method::POST, item.post.is_some()),
            (Method::DELETE, item.delete.is_some()),
            (Method::PATCH, item.patch.is_some()),
        ];
        for (method, present) in methods {
            if present {
                all.push((path.clone(), method));
            }
        }
    }
    all
}

//! Posted forms' fields and what goes wrong in the console.
//!
//! Every form carries the session's CSRF token: `session::Posted` refuses
//! a post without it before any handler runs. Values are kept exactly as typed
//! (the API's rules decide, and refuse surrounding spaces rather than trim
//! them), except that an empty optional field is "not given".

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::view::render;
use crate::broker::error::ApiError;
use crate::wire::ProblemCode;

/// A form's fields in the order posted; repeated names are lists.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// `name`'s value, or `None` when it was left empty.
    pub fn optional(&self, name: &str) -> Option<String> {
        Some(self.get(name).to_string()).filter(|v| !v.is_empty())
    }

    /// Whether a checkbox named `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.sent(name)
    }

    /// Whether the form had a field `name` at all, even empty.
    pub fn sent(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// A textarea's non-empty lines (line endings removed, nothing else).
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.get(name)
            .lines()
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    }

    /// A textarea of `key=value` lines, as labels are written; a line
    /// without `=` is an error on `field`.
    pub fn pairs(
        &self,
        name: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
        self.lines(name)
            .into_iter()
            .map(|line| {
                line.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .ok_or_else(|| {
                        ApiError::invalid(
                            name,
                            format!("{line:?} is not key=value: write one label a line, like team=network"),
                        )
                    })
            })
            .collect()
    }
}

/// Why a console request did not get its page.
pub enum Failure {
    /// No session, or one that ended: back to the sign-in form.
    SignedOut,
    /// A post without this session's CSRF token.
    Csrf,
    /// What the API said.
    Api(ApiError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

#[derive(askama::Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    title: String,
    detail: String,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::SignedOut => Redirect::to("/sign-in").into_response(),
            Failure::Csrf => render(
                StatusCode::FORBIDDEN,
                &ErrorPage {
                    title: "Form refused".into(),
                    detail: "The form's security token is missing or belongs to another session. \
                             Go back, reload the page and submit it again."
                        .into(),
                },
            ),
            Failure::Api(e) => {
                if let ApiError::Internal(cause) = &e {
                    tracing::error!(%cause, "console request failed");
                }
                let status = e.status();
                let detail = e.problem().detail;
                render(
                    status,
                    &ErrorPage {
                        title: status.canonical_reason().unwrap_or("Error").to_string(),
                        detail,
                    },
                )
            }
        }
    }
}

/// Messages by field, and the one for the whole form.
#[derive(Default)]
pub struct Errors {
    fields: BTreeMap<String, String>,
    form: String,
}

impl Errors {
    /// What the API said, placed for the form: a refused field's message
    /// next to it, a name or id already taken next to that field (phrased
    /// for a form, not for Terraform), anything else above the form.
    pub fn of(e: ApiError) -> Errors {
        match e {
            ApiError::Invalid { field, detail } => Errors {
                form: detail.clone(),
                fields: BTreeMap::from([(field, detail)]),
            },
            ApiError::Conflict {
                code: ProblemCode::StackExists,
                ..
            } => Errors::on(
                "id",
                "A stack with this id already exists: choose another id.",
            ),
            ApiError::Conflict {
                code: ProblemCode::IntegrationNameTaken,
                ..
            } => Errors::on(
                "name",
                "An integration with this name already exists: choose another name.",
            ),
            other => Errors {
                fields: BTreeMap::new(),
                form: other.problem().detail,
            },
        }
    }

    fn on(field: &str, message: &str) -> Errors {
        Errors {
            form: message.to_string(),
            fields: BTreeMap::from([(field.to_string(), message.to_string())]),
        }
    }

    /// The message for `field`, or "".
    pub fn get(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", String::as_str)
    }

    pub fn form(&self) -> &str {
        &self.form
    }
}

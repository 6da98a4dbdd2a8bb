//! Integration pages: the list (filter by label and space), and one
//! integration's tabs — Overview (every field, the last verification step
//! by step), Attachments, Trust Policy — with Verify and the role template
//! downloads.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::every::every;
use super::form::{Failure, Posted};
use super::session::Signed;
use super::view::{Listed, Nav, badge, render, when, when_or_never};
use crate::api::{
    Attachment, Integration, ProblemCode, StepOutcome, TrustPolicy, VerifyQuery, VerifyReport,
};
use crate::broker::api::{
    AppState, Path, Query, attachments, integrations, role_template, stacks, trust, verify,
};
use crate::broker::error::ApiError;
use crate::broker::verification;
use crate::model::Phase;
use crate::model::role_template::Format;

/// Integrations on one page of the list.
const PAGE: i64 = 100;

/// One row of the integrations list.
struct Row {
    id: String,
    name: String,
    role_arn: String,
    region: String,
    mode: &'static str,
    trust_scope: &'static str,
    last_verified: String,
    badge: (&'static str, &'static str),
    attached: i64,
}

#[derive(askama::Template)]
#[template(path = "console/integrations.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<Row>,
    label: String,
    space: String,
    error: String,
    next: Option<String>,
}

fn mode(i: &Integration) -> &'static str {
    if i.generate_credentials_in_worker {
        "worker"
    } else {
        "broker"
    }
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    // The filter form's fields, passed on as the API's query: an empty
    // field is no filter.
    let mut label = String::new();
    let mut space = String::new();
    // Built in a block: the serializer may not be held across an await.
    let query = {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("limit", &PAGE.to_string());
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match &*k {
                "label" if !v.is_empty() => {
                    label = v.to_string();
                    query.append_pair("label", &v);
                }
                "space" if !v.is_empty() => {
                    space = v.to_string();
                    query.append_pair("space", &v);
                }
                "cursor" if !v.is_empty() => {
                    query.append_pair("cursor", &v);
                }
                _ => {}
            }
        }
        query.finish()
    };
    let listed =
        integrations::list(State(state.clone()), signed.admin(), RawQuery(Some(query))).await;
    let listed = Listed::of(listed)?;
    let counts = state.store.attachment_counts().await?;
    let rows = listed
        .items
        .iter()
        .map(|i| Row {
            id: i.id.to_string(),
            name: i.name.clone(),
            role_arn: i.role_arn.to_string(),
            region: i.region.to_string(),
            mode: mode(i),
            trust_scope: i.trust_scope.as_str(),
            last_verified: when_or_never(i.last_verified_at.as_deref()),
            badge: badge(i),
            attached: counts.get(i.id.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let next = listed.next_cursor.clone().map(|cursor| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("label", &label)
            .append_pair("space", &space)
            .append_pair("cursor", &cursor);
        format!("/integrations?{}", q.finish())
    });
    Ok(render(
        listed.status(),
        &ListPage {
            nav: Nav::new(&signed, "integrations"),
            rows,
            label,
            space,
            error: listed.error.clone(),
            next,
        },
    ))
}

/// Every field of an integration, as the Overview tab shows it.
pub struct Shown {
    pub id: String,
    pub name: String,
    pub role_arn: String,
    pub region: String,
    pub duration_seconds: i64,
    pub mode: &'static str,
    pub trust_scope: &'static str,
    pub external_id: String,
    pub tag_session: bool,
    pub set_source_identity: bool,
    pub read_policies: Vec<String>,
    pub write_policies: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub space: String,
    pub description: String,
    pub created: String,
    pub updated: String,
    pub last_verified: String,
    pub badge: (&'static str, &'static str),
}

impl Shown {
    fn of(i: &Integration) -> Shown {
        Shown {
            id: i.id.to_string(),
            name: i.name.clone(),
            role_arn: i.role_arn.to_string(),
            region: i.region.to_string(),
            duration_seconds: i.duration_seconds,
            mode: mode(i),
            trust_scope: i.trust_scope.as_str(),
            external_id: i.external_id.as_ref().map_or_else(
                || "one per stack and phase, generated by deputy".to_string(),
                |e| e.to_string(),
            ),
            tag_session: i.tag_session,
            set_source_identity: i.set_source_identity,
            read_policies: i.read_session_policy_arns.clone(),
            write_policies: i.write_session_policy_arns.clone(),
            labels: i.labels.clone().into_iter().collect(),
            space: i.space.clone(),
            description: i.description.clone(),
            created: when(&i.created_at),
            updated: when(&i.updated_at),
            last_verified: when_or_never(i.last_verified_at.as_deref()),
            badge: badge(i),
        }
    }
}

/// One probe of a verification report.
pub struct StepRow {
    name: String,
    outcome: String,
    class: &'static str,
    detail: String,
    attempts: u32,
    millis: u64,
}

/// A verification report as the Overview tab shows it.
pub struct Report {
    ok: bool,
    error: String,
    millis: u64,
    sts_calls: u32,
    warnings: Vec<String>,
    steps: Vec<StepRow>,
}

impl Report {
    fn of(r: &VerifyReport) -> Report {
        Report {
            ok: r.ok,
            error: r.error.clone(),
            millis: r.millis,
            sts_calls: r.sts_calls,
            warnings: r.warnings.clone(),
            steps: r
                .steps
                .iter()
                .map(|s| StepRow {
                    name: s.name.clone(),
                    outcome: s.outcome.to_string(),
                    class: match s.outcome {
                        StepOutcome::Ok | StepOutcome::Denied => "ok",
                        StepOutcome::Failed => "bad",
                    },
                    detail: s.detail.clone(),
                    attempts: s.attempts,
                    millis: s.millis,
                })
                .collect(),
        }
    }
}

/// One attachment, with its External IDs to copy.
pub struct AttachmentRow {
    pub stack_id: String,
    pub read: bool,
    pub write: bool,
    pub access: &'static str,
    pub external_ids: Vec<(String, String)>,
}

impl AttachmentRow {
    pub fn of(a: &Attachment) -> AttachmentRow {
        AttachmentRow {
            stack_id: a.stack_id.to_string(),
            read: a.read,
            write: a.write,
            access: match (a.read, a.write) {
                (true, true) => "Read & Write",
                (true, false) => "Read",
                _ => "Write",
            },
            external_ids: a
                .external_ids
                .iter()
                .map(|(p, e)| (p.as_str().to_string(), e.to_string()))
                .collect(),
        }
    }
}

/// The Trust Policy tab.
struct Policy {
    document: String,
    length: usize,
    max_length: usize,
    percent: usize,
    stacks: usize,
}

impl Policy {
    fn of(p: &TrustPolicy) -> Policy {
        Policy {
            document: p.document.clone(),
            length: p.length,
            max_length: p.max_length,
            percent: (p.length * 100).checked_div(p.max_length).unwrap_or(0),
            stacks: p.stacks,
        }
    }
}

#[derive(askama::Template)]
#[template(path = "console/integration.html")]
struct IntegrationPage {
    nav: Nav,
    /// overview, attachments or trust-policy.
    tab: &'static str,
    i: Shown,
    notice: String,
    report: Option<Report>,
    attachments: Vec<AttachmentRow>,
    /// Stacks not attached yet, for the attach and preview forms.
    attachable: Vec<String>,
    /// Stacks the trust policy shown also covers, before they are attached.
    previewed: Vec<String>,
    policy: Option<Policy>,
    /// Role template formats and what each is.
    formats: Vec<(&'static str, &'static str)>,
}

impl IntegrationPage {
    fn new(signed: &Signed, tab: &'static str, i: &Integration) -> IntegrationPage {
        IntegrationPage {
            nav: Nav::new(signed, "integrations"),
            tab,
            i: Shown::of(i),
            notice: String::new(),
            report: None,
            attachments: Vec::new(),
            attachable: Vec::new(),
            previewed: Vec::new(),
            policy: None,
            formats: Vec::new(),
        }
    }
}

async fn integration(
    state: &Arc<AppState>,
    signed: &Signed,
    id: &str,
) -> Result<Integration, Failure> {
    Ok(
        integrations::read(State(state.clone()), signed.admin(), Path(id.to_string()))
            .await?
            .0,
    )
}

/// Every attachment of an integration.
pub async fn all_attachments(
    state: &Arc<AppState>,
    signed: &Signed,
    id: &str,
) -> Result<Vec<Attachment>, Failure> {
    Ok(every(|q| {
        attachments::of_integration(
            State(state.clone()),
            signed.admin(),
            Path(id.to_string()),
            Query(q),
        )
    })
    .await?)
}

#[derive(serde::Deserialize)]
pub struct Notice {
    refused: Option<String>,
}

/// Words for the refusals Verify redirects with: a fixed table, so the
/// address never carries text onto the page.
fn notice(refused: Option<&str>) -> String {
    match refused {
        Some(code) if code == ProblemCode::NothingToVerify.to_string() => {
            "Nothing to verify yet: attach a stack first (Attachments tab).".into()
        }
        Some(code) if code == ProblemCode::WorkerMode.to_string() => {
            "This integration's credentials are generated in workers, which assume the role with \
             their own identity: verify it from a worker with `deputy verify --as-worker`."
                .into()
        }
        _ => String::new(),
    }
}

pub async fn overview(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<Notice>,
) -> Result<Response, Failure> {
    let i = integration(&state, &signed, &id).await?;
    let mut page = IntegrationPage::new(&signed, "overview", &i);
    page.notice = notice(q.refused.as_deref());
    page.report = i.last_verification.as_ref().map(Report::of);
    Ok(render(StatusCode::OK, &page))
}

pub async fn attachments(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let i = integration(&state, &signed, &id).await?;
    let attached = all_attachments(&state, &signed, &id).await?;
    let page = attachments_page(&state, &signed, &i, &attached, String::new()).await?;
    Ok(render(StatusCode::OK, &page))
}

/// The Attachments tab, with `notice` above it (why an attach was
/// refused, say).
async fn attachments_page(
    state: &Arc<AppState>,
    signed: &Signed,
    i: &Integration,
    attached: &[Attachment],
    notice: String,
) -> Result<IntegrationPage, Failure> {
    let mut page = IntegrationPage::new(signed, "attachments", i);
    page.notice = notice;
    page.attachments = attached.iter().map(AttachmentRow::of).collect();
    page.attachable = unattached(state, signed, attached).await?;
    Ok(page)
}

/// Every stack not attached to the integration yet.
async fn unattached(
    state: &Arc<AppState>,
    signed: &Signed,
    attached: &[Attachment],
) -> Result<Vec<String>, Failure> {
    let stacks = every(|q| stacks::list(State(state.clone()), signed.admin(), Query(q))).await?;
    Ok(stacks
        .iter()
        .map(|s| s.id.to_string())
        .filter(|s| !attached.iter().any(|a| a.stack_id.as_str() == s))
        .collect())
}

/// The Attachments tab after a refused change, with the reason.
pub async fn attachments_refused(
    state: &Arc<AppState>,
    signed: &Signed,
    id: &str,
    e: ApiError,
) -> Result<Response, Failure> {
    let i = integration(state, signed, id).await?;
    let attached = all_attachments(state, signed, id).await?;
    let status = e.status();
    let mut reason = e.problem().detail;
    if let ApiError::Conflict {
        report: Some(report),
        ..
    } = &e
    {
        reason = format!("{reason} (verification took {} ms)", report.millis);
    }
    let page = attachments_page(state, signed, &i, &attached, reason).await?;
    Ok(render(status, &page))
}

/// The trust policy for the attached stacks and, to create or update the
/// role before attaching (an attach is verified against the role), for
/// the stacks ticked in the preview form (`?stack=`).
pub async fn trust_policy(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let i = integration(&state, &signed, &id).await?;
    let attached = all_attachments(&state, &signed, &id).await?;
    let mut stacks = verification::attached(&state, &id).await?;
    let mut previewed = Vec::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if key == "stack" {
            let stack = trust::existing_stack(&state, &value).await?;
            if !stacks.iter().any(|(s, _)| *s == stack) {
                previewed.push(stack.to_string());
                stacks.push((stack, Phase::ALL.to_vec()));
            }
        }
    }
    let policy = trust::trust_policy_for(&state, &i, &stacks)?;
    let mut page = IntegrationPage::new(&signed, "trust-policy", &i);
    page.attachments = attached.iter().map(AttachmentRow::of).collect();
    page.attachable = unattached(&state, &signed, &attached).await?;
    page.previewed = previewed;
    page.policy = Some(Policy::of(&policy));
    page.formats = vec![
        (Format::CloudFormation.as_str(), "CloudFormation template"),
        (Format::Terraform.as_str(), "Terraform for hashicorp/aws"),
        (Format::Json.as_str(), "the role as plain JSON"),
    ];
    Ok(render(StatusCode::OK, &page))
}

/// Runs every probe (the API's verification, IAM propagation retried),
/// then shows the Overview with the report, passed or failed. A form post
/// that waits for the answer: without JavaScript the browser shows its own
/// progress; with it, the page shows a running clock.
pub async fn verify(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, Failure> {
    let ran = verify::verify(
        State(state.clone()),
        posted.signed.admin(),
        Path(id.clone()),
        Query(VerifyQuery::default()),
    )
    .await;
    let to = format!("/integrations/{id}");
    match ran {
        // Passed or failed, the report is recorded with the integration.
        Ok(_)
        | Err(ApiError::Conflict {
            report: Some(_), ..
        }) => Ok(Redirect::to(&format!("{to}#verification")).into_response()),
        Err(ApiError::Conflict { code, .. })
            if matches!(code, ProblemCode::NothingToVerify | ProblemCode::WorkerMode) =>
        {
            Ok(Redirect::to(&format!("{to}?refused={code}")).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// What a verification of the integration running on this replica has
/// said so far: the console's script asks while a Verify or an attach
/// waits for its answer. Another replica's verification is not seen here
/// (the page then shows only its clock).
pub async fn progress(
    State(state): State<Arc<AppState>>,
    _signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let lines = state.live.lines(&id);
    axum::Json(serde_json::json!({
        "running": lines.is_some(),
        "lines": lines.unwrap_or_default(),
    }))
    .into_response()
}

#[derive(serde::Deserialize)]
pub struct TemplateQuery {
    format: String,
}

/// The role template (#9's CloudFormation, Terraform or JSON) as a file.
pub async fn role_template(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<TemplateQuery>,
) -> Result<Response, Failure> {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("format", &q.format)
        .finish();
    let document = role_template::role_template(
        State(state.clone()),
        signed.admin(),
        Path(id),
        RawQuery(Some(query)),
    )
    .await?
    .0;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        document.file_name.replace(['"', '\\'], "_")
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        document.content,
    )
        .into_response())
}

//! Integration pages: the list (filter by label and space), and one
//! integration's tabs — Overview (every field, the last verification step
//! by step), Attachments, Trust Policy — with Verify and the role template
//! downloads.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::every::every;
use super::flash;
use super::form::Failure;
use super::session::{Posted, Signed};
use super::view::{
    FOUND_AT_MOST, Listed, Nav, Switcher, badge, found, render, when, when_or_never,
};
use crate::broker::auth::Caller;
use crate::broker::error::ApiError;
use crate::broker::extract::Path;
use crate::broker::service::{
    access, attachments, integrations, spaces, stacks, trust_policies, verification,
};
use crate::broker::state::AppState;
use crate::model::role_template::Format;
use crate::model::verification::{Finding, STATEMENT_TO_USE};
use crate::wire::{
    Attachment, Integration, IntegrationFilter, List, ProblemCode, RoleTemplateQuery, Stack,
    StepOutcome, TrustPolicy, VerifyQuery, VerifyReport,
};

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
    /// What the search box holds, and how many more integrations it found
    /// than the page shows.
    search: String,
    more: usize,
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
    // The filter form's fields, passed on as the list's filter: an empty
    // field is no filter.
    let mut filter = IntegrationFilter {
        limit: Some(PAGE),
        ..IntegrationFilter::default()
    };
    let (mut label, mut space, mut search) = (String::new(), String::new(), String::new());
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match &*k {
            "q" => search = v.trim().to_string(),
            "label" if !v.is_empty() => {
                label = v.to_string();
                filter.label.push(label.clone());
            }
            "space" if !v.is_empty() => {
                space = v.to_string();
                filter.space = Some(space.clone());
            }
            "cursor" if !v.is_empty() => filter.cursor = Some(v.to_string()),
            _ => {}
        }
    }
    // A search looks through every integration the filters let through,
    // by name and role ARN, and shows the first hundred it finds.
    let mut more = 0;
    let listed = if search.is_empty() {
        Listed::of(integrations::list(&state, signed.caller(), &filter).await)?
    } else {
        let (filter, state, caller) = (&filter, &state, signed.caller());
        let all = every(|q| async move {
            integrations::list(
                state,
                caller,
                &IntegrationFilter {
                    limit: q.limit,
                    cursor: q.cursor,
                    ..filter.clone()
                },
            )
            .await
        })
        .await;
        let mut listed = Listed::of(all.map(|items| List {
            items,
            next_cursor: None,
        }))?;
        listed
            .items
            .retain(|i| found(&search, &[&i.name, i.role_arn.as_str()]));
        more = listed.items.len().saturating_sub(FOUND_AT_MOST);
        listed.items.truncate(FOUND_AT_MOST);
        listed
    };
    let counts = attachments::counts(&state, signed.caller()).await?;
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
    let mut nav = signed.nav("integrations");
    let spaces = spaces::list(&state, signed.caller()).await?;
    nav.switcher = Some(Switcher::new("/integrations", &spaces, &space));
    Ok(render(
        listed.status(),
        &ListPage {
            nav,
            rows,
            label,
            space,
            search,
            more,
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

/// A verification report as the Overview tab shows it: for a failed one,
/// the verdict in a sentence first, the whole explanation and the
/// statement to use (pretty-printed) on request.
pub struct Report {
    ok: bool,
    /// unsafe, not-assumable or failed.
    verdict: &'static str,
    /// For an unsafe role: what was let through.
    what: String,
    /// Why it failed and how to fix it, without the statement.
    error: String,
    /// The statement the trust policy should hold, or "".
    statement: String,
    millis: u64,
    sts_calls: u32,
    warnings: Vec<String>,
    steps: Vec<StepRow>,
}

impl Report {
    fn of(r: &VerifyReport) -> Report {
        let (verdict, what) = match r.finding() {
            Finding::Unsafe { what } => ("unsafe", what),
            Finding::NotAssumable => ("not-assumable", String::new()),
            Finding::Failed => ("failed", String::new()),
        };
        let (error, statement) = match r.error.split_once(STATEMENT_TO_USE) {
            Some((why, json)) => (
                why.trim_end().to_string(),
                pretty(json.trim_end_matches('.')),
            ),
            None => (r.error.clone(), String::new()),
        };
        Report {
            ok: r.ok,
            verdict,
            what,
            error,
            statement,
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
        // Shown pretty; its size is counted as IAM counts it, minified.
        Policy {
            document: pretty(&p.document),
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
    /// With a refused attach: the statement the role should hold.
    notice_statement: String,
    /// The stack the attach form shows chosen (the one just refused).
    chosen: String,
    /// A stack and access to attach waiting for IAM (the role refused it
    /// at once).
    wait_for: Option<(String, String)>,
    report: Option<Report>,
    attachments: Vec<AttachmentRow>,
    /// Stacks not attached yet, for the attach and preview forms.
    attachable: Vec<String>,
    /// Stacks the trust policy shown also covers, before they are attached.
    previewed: Vec<String>,
    /// The labels of stacks not attached (`k=v`), to pick stacks by, and
    /// the one picked.
    labels: Vec<String>,
    label: String,
    /// `&stack=…` for each previewed stack, for the role template links.
    template_stacks: String,
    policy: Option<Policy>,
    /// Role template formats and what each is.
    formats: Vec<(&'static str, &'static str)>,
}

impl IntegrationPage {
    /// The page of `i` on `tab`. While a verification of it on this replica
    /// is retrying AccessDenied, its badge says so: not assumable yet.
    ///
    /// Its controls are an admin's of the integration's own subtree: a team
    /// that only reaches it (in a space above) attaches its stacks, and
    /// does not edit, delete or verify it.
    async fn new(
        state: &AppState,
        signed: &Signed,
        tab: &'static str,
        i: &Integration,
    ) -> IntegrationPage {
        let mut nav = signed.nav("integrations");
        let holds = match access::of(state, signed.caller()).await {
            Ok(access) => access.holds(&i.space),
            Err(_) => false,
        };
        nav.can_admin &= holds;
        let mut shown = Shown::of(i);
        if state
            .live
            .lines(i.id.as_str())
            .is_some_and(|retries| !retries.is_empty())
        {
            shown.badge = ("not assumable yet", "badge warn");
        }
        IntegrationPage {
            nav,
            tab,
            i: shown,
            notice: String::new(),
            notice_statement: String::new(),
            chosen: String::new(),
            wait_for: None,
            report: None,
            attachments: Vec::new(),
            attachable: Vec::new(),
            previewed: Vec::new(),
            labels: Vec::new(),
            label: String::new(),
            template_stacks: String::new(),
            policy: None,
            formats: Vec::new(),
        }
    }
}

async fn integration(state: &AppState, caller: &Caller, id: &str) -> Result<Integration, Failure> {
    Ok(integrations::read(state, caller, id).await?)
}

/// Every attachment of an integration.
pub async fn all_attachments(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Vec<Attachment>, Failure> {
    Ok(every(|q| async move { attachments::of_integration(state, caller, id, &q).await }).await?)
}

/// Words for the refusals Verify answers without a report.
fn refusal(code: ProblemCode) -> &'static str {
    match code {
        ProblemCode::WorkerMode => {
            "This integration's credentials are generated in workers, which assume the role with \
             their own identity: verify it from a worker with `deputy verify --as-worker`."
        }
        _ => "Nothing to verify yet: attach a stack first (Attachments tab).",
    }
}

pub async fn overview(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let i = integration(&state, signed.caller(), &id).await?;
    let mut page = IntegrationPage::new(&state, &signed, "overview", &i).await;
    page.report = i.last_verification.as_ref().map(Report::of);
    // Verify is offered only with something to verify.
    page.attachments = all_attachments(&state, signed.caller(), &id)
        .await?
        .iter()
        .map(AttachmentRow::of)
        .collect();
    Ok(render(StatusCode::OK, &page))
}

pub async fn attachments(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let i = integration(&state, signed.caller(), &id).await?;
    let attached = all_attachments(&state, signed.caller(), &id).await?;
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
    let mut page = IntegrationPage::new(state, signed, "attachments", i).await;
    page.notice = notice;
    page.attachments = attached.iter().map(AttachmentRow::of).collect();
    page.attachable = unattached(state, signed.caller(), attached).await?;
    Ok(page)
}

/// Stacks not attached to the integration.
async fn unattached_stacks(
    state: &AppState,
    caller: &Caller,
    attached: &[Attachment],
) -> Result<Vec<Stack>, Failure> {
    let stacks = every(|q| async move { stacks::list(state, caller, &q.into()).await }).await?;
    Ok(stacks
        .into_iter()
        .filter(|s| !attached.iter().any(|a| a.stack_id == s.id))
        .collect())
}

/// The ids of stacks not attached to the integration.
async fn unattached(
    state: &AppState,
    caller: &Caller,
    attached: &[Attachment],
) -> Result<Vec<String>, Failure> {
    Ok(unattached_stacks(state, caller, attached)
        .await?
        .iter()
        .map(|s| s.id.to_string())
        .collect())
}

/// The Attachments tab after a refused change: the reason in a sentence,
/// the statement the role should hold when the trust policy was at fault,
/// and the stack that was being attached still chosen.
pub async fn attachments_refused(
    state: &Arc<AppState>,
    signed: &Signed,
    id: &str,
    chosen: &str,
    e: ApiError,
) -> Result<Response, Failure> {
    let i = integration(state, signed.caller(), id).await?;
    let attached = all_attachments(state, signed.caller(), id).await?;
    let status = e.status();
    let detail = e.problem().detail;
    let (mut reason, statement) = match detail.split_once(STATEMENT_TO_USE) {
        Some((why, json)) => (
            why.trim_end().to_string(),
            pretty(json.trim_end_matches('.')),
        ),
        None => (detail.clone(), String::new()),
    };
    if let ApiError::Conflict {
        report: Some(report),
        ..
    } = &e
    {
        reason = format!("{reason} (verification took {} ms)", report.millis);
    }
    let mut page = attachments_page(state, signed, &i, &attached, reason).await?;
    page.notice_statement = statement;
    page.chosen = chosen.to_string();
    Ok(render(status, &page))
}

/// The Attachments tab when the role does not accept the stack being
/// attached right now: why in a sentence, the statement to give the role,
/// and a form that attaches anyway, waiting for IAM, for a role just
/// changed.
pub async fn refused_now(
    state: &Arc<AppState>,
    signed: &Signed,
    i: &Integration,
    stack: &str,
    access: &str,
    report: &VerifyReport,
) -> Result<Response, Failure> {
    let attached = all_attachments(state, signed.caller(), i.id.as_str()).await?;
    let reason = format!(
        "Role {} does not accept stack {stack}'s External IDs: give the role the statement \
         below, then attach again. If you changed the role in the last minute, IAM may still be \
         applying it: attach and wait instead.",
        i.role_arn
    );
    let mut page = attachments_page(state, signed, i, &attached, reason).await?;
    page.notice_statement = report
        .error
        .split_once(STATEMENT_TO_USE)
        .map(|(_, json)| pretty(json.trim_end_matches('.')))
        .unwrap_or_default();
    page.chosen = stack.to_string();
    page.wait_for = Some((stack.to_string(), access.to_string()));
    Ok(render(StatusCode::CONFLICT, &page))
}

/// A JSON document indented for reading, or as it came if it is not JSON.
fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| json.to_string())
}

/// The trust policy for the attached stacks and, to create or update the
/// role before attaching (an attach is verified against the role), for
/// the stacks ticked in the preview form (`?stack=`) or carrying a label
/// (`?label=team=core`). The role template links carry the same stacks.
pub async fn trust_policy(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let i = integration(&state, signed.caller(), &id).await?;
    let attached = all_attachments(&state, signed.caller(), &id).await?;
    let unattached = unattached_stacks(&state, signed.caller(), &attached).await?;
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let label = params
        .iter()
        .find(|(k, v)| k == "label" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut wanted: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "stack")
        .map(|(_, v)| v.clone())
        .collect();
    if let Some((key, value)) = label.split_once('=') {
        wanted.extend(
            unattached
                .iter()
                .filter(|s| s.labels.get(key).is_some_and(|v| v == value))
                .map(|s| s.id.to_string()),
        );
    }
    let stacks = trust_policies::with_extra_stacks(&state, signed.caller(), &i, &wanted).await?;
    let previewed: Vec<String> = stacks
        .iter()
        .map(|(s, _)| s.to_string())
        .filter(|s| !attached.iter().any(|a| a.stack_id.as_str() == s))
        .collect();
    let policy = trust_policies::trust_policy_for(&state, &i, &stacks)?;
    let mut page = IntegrationPage::new(&state, &signed, "trust-policy", &i).await;
    page.attachments = attached.iter().map(AttachmentRow::of).collect();
    page.labels = unattached
        .iter()
        .flat_map(|s| s.labels.iter().map(|(k, v)| format!("{k}={v}")))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    page.label = label;
    page.attachable = unattached.iter().map(|s| s.id.to_string()).collect();
    page.template_stacks = previewed
        .iter()
        .map(|s| {
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("stack", s)
                .finish()
        })
        .map(|pair| format!("&{pair}"))
        .collect();
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
    let ran = verification::run(&state, posted.signed.caller(), &id, &VerifyQuery::default()).await;
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
            Ok(flash::refused(&state, &to, refusal(code)))
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

/// The role template (#9's CloudFormation, Terraform or JSON) as a file,
/// for the attached stacks and the `?stack=` ones. A template that cannot
/// be made (a stack-scoped role with no stack yet) sends the operator back
/// to the Trust Policy tab with the reason, not to a bare error page.
pub async fn role_template(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let query = RoleTemplateQuery {
        format: params
            .iter()
            .find(|(k, _)| k == "format")
            .map(|(_, v)| v.clone()),
        stack_id: params
            .iter()
            .filter(|(k, _)| k == "stack")
            .map(|(_, v)| v.clone())
            .collect(),
        ..RoleTemplateQuery::default()
    };
    let named = !query.stack_id.is_empty();
    let document = match trust_policies::role_template(&state, signed.caller(), &id, query).await {
        Ok(document) => document,
        // Fixed words: the refusal's own detail would repeat the address.
        Err(ApiError::Invalid { field, .. }) => {
            let why = match (field.as_str(), named) {
                ("stack_id", false) => {
                    "A role template needs the stacks the role is for: tick them under \"Also \
                     cover stacks\", press Show policy, then download the template."
                }
                ("stack_id", true) => {
                    "A stack chosen for the role template no longer exists: choose the stacks \
                     again."
                }
                _ => "The role template could not be made from that address: use the links below.",
            };
            return Ok(flash::refused(
                &state,
                &format!("/integrations/{id}/trust-policy"),
                why,
            ));
        }
        Err(e) => return Err(e.into()),
    };
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

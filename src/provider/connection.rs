//! What resources and data sources share once the provider is configured:
//! the broker client, and a per-process cache of what a `for_each` over
//! hundreds of stacks would otherwise fetch once per instance.
//!
//! The cache holds the account, integrations by id, and the list of stacks,
//! each fetched at most once (concurrent readers wait for the first fetch).
//! A stack missing from the cached list is looked up directly before it is
//! reported missing, so one created earlier in the same run is still found.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OnceCell};

use super::BrokerSettings;
use crate::client::{Client, ClientError};
use crate::wire::{Account, Integration, ProblemCode, Stack};
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};

/// A broker that does not answer within this is reported, not waited on.
/// Attaching verifies the role, which retries a new role's AccessDenied for
/// about a minute (the broker's `--verify-retry-seconds`), so allow for it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(150);

/// How long a detach waits for an attach of the same stack to begin in
/// this run. Terraform starts the create of a stack's new attachment and
/// the destroy of its old one at the same moment when a stack moves
/// between integrations; whichever reaches the broker first, the move
/// must be make-before-break. Every detach pays this once, in parallel
/// with the rest of the apply.
const DETACH_GRACE: Duration = Duration::from_secs(1);

/// The provider's connection to the broker: its client (when configured)
/// and what it has fetched once for this process.
pub struct BrokerConnection {
    settings: BrokerSettings,
    client: Option<Client>,
    account: OnceCell<Account>,
    stacks: OnceCell<BTreeMap<String, Stack>>,
    integrations: Mutex<HashMap<String, Arc<OnceCell<Integration>>>>,
    /// For each integration whose role failed verification in this run, the
    /// stack whose error carries the full report (see
    /// [`BrokerConnection::attach_error`]).
    failed_roles: Mutex<HashMap<String, String>>,
    /// Attaches in flight in this run, by stack, and a signal when one
    /// begins or ends: see [`BrokerConnection::before_detach`].
    attaching: Mutex<HashMap<String, usize>>,
    attach_events: Notify,
}

/// An attach in flight for a stack, until dropped.
pub struct Attaching<'a> {
    connection: &'a BrokerConnection,
    stack: String,
}

impl Drop for Attaching<'_> {
    fn drop(&mut self) {
        let mut attaching = self.connection.attaching.lock().expect("attaching lock");
        if let Some(n) = attaching.get_mut(&self.stack) {
            *n -= 1;
            if *n == 0 {
                attaching.remove(&self.stack);
            }
        }
        drop(attaching);
        self.connection.attach_events.notify_waiters();
    }
}

impl BrokerConnection {
    pub fn new(settings: BrokerSettings) -> Result<BrokerConnection, Diagnostics> {
        let client = match (
            &settings.endpoint,
            settings.token.as_ref().or(settings.id_token.as_ref()),
        ) {
            (Some(endpoint), Some(token)) => Some(
                Client::new(
                    endpoint.clone(),
                    token.clone(),
                    REQUEST_TIMEOUT,
                    &settings.transport,
                )
                .map_err(|why| {
                    Diagnostics::from(Diagnostic::error("Cannot use the deputy broker", why))
                })?,
            ),
            _ => None,
        };
        Ok(BrokerConnection {
            settings,
            client,
            account: OnceCell::new(),
            stacks: OnceCell::new(),
            integrations: Mutex::new(HashMap::new()),
            failed_roles: Mutex::new(HashMap::new()),
            attaching: Mutex::new(HashMap::new()),
            attach_events: Notify::new(),
        })
    }

    /// Checks once, at configure, that the broker answers and takes the
    /// key, so a stopped broker or a refused key is one error for the whole
    /// run rather than one per resource. An admin key reads the account
    /// (cached for the run, and checked against `account`); a runner key is
    /// refused that read with 403, which proves the key is live: a workload
    /// stack needs nothing more for `deputy_aws_credentials`.
    pub async fn check(&self) -> Result<(), Diagnostics> {
        let Some(client) = &self.client else {
            return Ok(());
        };
        // An ID token is good for credentials only, and each one the broker
        // sees may be the only use it allows: it is not spent on a check.
        if self.settings.token.is_none() {
            return Ok(());
        }
        match client.account().await {
            Ok(account) => {
                let _ = self.account.set(account);
                self.account().await.map(|_| ())
            }
            Err(e) if e.code() == Some(ProblemCode::Forbidden) => Ok(()),
            Err(e) => Err(to_diags(e, None)),
        }
    }

    /// The client, or a diagnostic saying which setting is missing.
    pub fn client(&self) -> Result<&Client, Diagnostics> {
        self.client.as_ref().ok_or_else(|| {
            let missing = if self.settings.endpoint.is_none() {
                "broker endpoint: set `endpoint` in the provider block or the DEPUTY_ENDPOINT environment variable"
            } else {
                "API key: set DEPUTY_TOKEN_FILE or DEPUTY_TOKEN (or `token_file` or `token` in the provider block)"
            };
            Diagnostic::error("deputy provider not configured", format!("This needs the deputy broker, and the provider has no {missing}."))
                .into()
        })
    }

    /// The longest trust policy the provider emits: the account's quota.
    pub fn max_trust_policy_length(&self) -> usize {
        self.settings.max_trust_policy_length
    }

    /// A client acting with a runner key instead of the provider's admin key.
    pub fn runner_client(&self, token: String) -> Result<Client, Diagnostics> {
        let endpoint = self.settings.endpoint.clone().ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "deputy provider not configured",
                "This needs the deputy broker, and the provider has no broker endpoint: set `endpoint` in the provider block or the DEPUTY_ENDPOINT environment variable.",
            ))
        })?;
        Client::new(endpoint, token, REQUEST_TIMEOUT, &self.settings.transport).map_err(|why| {
            Diagnostics::from(Diagnostic::error("Cannot use the deputy broker", why))
        })
    }

    /// The account, fetched once; checked against the provider's `account`
    /// setting so a configuration cannot silently target the wrong broker.
    pub async fn account(&self) -> Result<&Account, Diagnostics> {
        let account = self
            .account
            .get_or_try_init(|| async {
                self.client()?
                    .account()
                    .await
                    .map_err(|e| to_diags(e, None))
            })
            .await?;
        if let Some(expected) = &self.settings.account
            && account.name != *expected
        {
            return Err(Diagnostic::error(
                "Wrong deputy broker",
                format!(
                    "The provider expects account \"{expected}\" but the broker at {} serves \
                         account \"{}\". Check `endpoint` (or DEPUTY_ENDPOINT) and `account`.",
                    self.client()?.endpoint(),
                    account.name
                ),
            )
            .at(AttributePath::attr("account"))
            .into());
        }
        Ok(account)
    }

    /// An integration by id, fetched once per process.
    pub async fn integration(
        &self,
        id: &str,
        path: &AttributePath,
    ) -> Result<Integration, Diagnostics> {
        let cell = self
            .integrations
            .lock()
            .expect("cache lock")
            .entry(id.to_string())
            .or_default()
            .clone();
        cell.get_or_try_init(|| async {
            self.client()?
                .integration(id)
                .await
                .map_err(|e| to_diags(e, Some(path.clone())))
        })
        .await
        .cloned()
    }

    /// Marks an attach of `stack` as in flight until the guard is dropped.
    pub fn attaching(&self, stack: &str) -> Attaching<'_> {
        *self
            .attaching
            .lock()
            .expect("attaching lock")
            .entry(stack.to_string())
            .or_default() += 1;
        self.attach_events.notify_waiters();
        Attaching {
            connection: self,
            stack: stack.to_string(),
        }
    }

    /// Waits, before a detach of `stack`, until no attach of the same stack
    /// is in flight in this run, giving one [`DETACH_GRACE`] to begin. The
    /// broker lets a new attachment wait for a phase another integration
    /// serves and hands it over when the old one goes, so with the new
    /// attach first, a stack moved between integrations in one apply is
    /// never without credentials.
    pub async fn before_detach(&self, stack: &str) {
        let grace_ends = Instant::now() + DETACH_GRACE;
        loop {
            let event = self.attach_events.notified();
            tokio::pin!(event);
            event.as_mut().enable();
            let in_flight = self
                .attaching
                .lock()
                .expect("attaching lock")
                .contains_key(stack);
            if in_flight {
                event.await;
                continue;
            }
            let left = grace_ends.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, event).await.is_err() {
                return;
            }
        }
    }

    /// An attach (or a widened attachment) of `stack` to `integration` that
    /// failed, as diagnostics. One role fails the same way for every stack
    /// of an apply (a `for_each` attaches them in parallel), so its full
    /// report, with the statement to use, is given once: the first stack's
    /// error has it, and each later one says which stack's error to read,
    /// with its own first reason in case it differs.
    pub fn attach_error(&self, integration: &str, stack: &str, e: ClientError) -> Diagnostics {
        let ClientError::Problem(p) = &e else {
            return e.into();
        };
        if p.code != ProblemCode::VerificationFailed {
            return e.into();
        }
        let first = {
            let mut failed = self.failed_roles.lock().expect("failed roles lock");
            failed
                .entry(integration.to_string())
                .or_insert_with(|| stack.to_string())
                .clone()
        };
        if first == stack {
            return e.into();
        }
        let reason = first_sentence(&p.detail, 400);
        Diagnostic::error(
            "AWS role verification failed",
            format!(
                "The role of integration {integration} failed verification for stack {stack:?} \
                 too; the full report and the statement to use are in the error for stack \
                 {first:?}, given once for the role. This stack's first reason: {reason}."
            ),
        )
        .into()
    }

    /// A warning on `path` for each stack in `ids` the broker does not
    /// have. For callers whose values do not depend on the stack existing
    /// (External IDs are derived from its id), so a configuration that
    /// creates its stacks in the same run, or is destroyed after a failed
    /// first apply, still plans; the warning catches a mistyped id.
    pub async fn missing_stacks(
        &self,
        ids: &[(&str, AttributePath)],
    ) -> Result<Diagnostics, Diagnostics> {
        let known = self
            .stacks
            .get_or_try_init(|| async {
                let list = self.client()?.stacks().await?;
                Ok::<_, Diagnostics>(list.into_iter().map(|s| (s.id.to_string(), s)).collect())
            })
            .await?;
        let mut warnings = Diagnostics::new();
        for (id, path) in ids {
            let (id, path) = (*id, path.clone());
            if known.contains_key(id) {
                continue;
            }
            match self.client()?.stack(id).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => warnings.push(
                    Diagnostic::warning(
                        "Stack not registered yet",
                        format!(
                            "Stack {id:?} does not exist in the deputy broker yet. Its External \
                             IDs are derived from the id all the same and stay valid once the \
                             stack is created (deputy_stack). If the id is a typo, fix it: \
                             attaching a stack that does not exist fails."
                        ),
                    )
                    .at(path),
                ),
                Err(e) => return Err(to_diags(e, Some(path))),
            }
        }
        Ok(warnings)
    }
}

/// The first sentence of `text` (up to ". "), at most `max` characters.
fn first_sentence(text: &str, max: usize) -> String {
    let sentence = text.split(". ").next().unwrap_or_default();
    let sentence = sentence.trim_end_matches('.');
    match sentence.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &sentence[..cut]),
        None => sentence.to_string(),
    }
}

/// A broker error as a diagnostic: the broker's own words, on the attribute
/// it blames when that is one of ours, else on `path`.
pub fn to_diags(e: ClientError, path: Option<AttributePath>) -> Diagnostics {
    match e {
        ClientError::Problem(p) => {
            let summary = match p.code {
                ProblemCode::Unauthenticated => "deputy broker refused the API key".to_string(),
                ProblemCode::Forbidden => "deputy API key not allowed".to_string(),
                ProblemCode::NotFound => "Not found in the deputy broker".to_string(),
                ProblemCode::VerificationFailed => "AWS role verification failed".to_string(),
                _ => format!("deputy broker: {}", p.title),
            };
            let hint = match p.code {
                ProblemCode::Unauthenticated => {
                    " Check the provider's key (the first of `token`, `token_file`, DEPUTY_TOKEN_FILE and DEPUTY_TOKEN that is set): it may be mistyped, revoked or expired."
                }
                ProblemCode::Forbidden => {
                    " Managing deputy objects needs an admin key (`deputy token create --role admin`); a runner key only gets credentials for its stack."
                }
                _ => "",
            };
            let stop = if p.detail.ends_with('.') || hint.is_empty() { "" } else { "." };
            let d = Diagnostic::error(summary, format!("{}{stop}{hint}", p.detail));
            let at = p.field.map(|f| AttributePath::attr(&f)).or(path);
            match at {
                Some(path) => d.at(path),
                None => d,
            }
            .into()
        }
        ClientError::NotABroker { endpoint, answer } => Diagnostic::error(
            "Not a deputy broker",
            format!(
                "{endpoint} is reachable but is not a deputy broker: {answer}. Check `endpoint` \
                 (or DEPUTY_ENDPOINT): it must be the broker's base URL, without a path, for \
                 example https://deputy.example.com."
            ),
        )
        .into(),
        ClientError::Transport { endpoint, cause } => Diagnostic::error(
            "Cannot reach the deputy broker",
            format!(
                "The request to {endpoint} failed: {cause}. Check that the broker is running and that \
                 `endpoint` (or DEPUTY_ENDPOINT) points at it."
            ),
        )
        .into(),
    }
}

impl From<ClientError> for Diagnostics {
    /// The broker's words, on the attribute it blames (if any): a plain
    /// `?` on a client call.
    fn from(e: ClientError) -> Diagnostics {
        to_diags(e, None)
    }
}

/// What a 404 means to a resource: a read that finds nothing says the
/// object is gone (Terraform then plans to create it again), a delete that
/// finds nothing is done. Written once for every resource.
pub trait Absent<T> {
    /// The object, or `None` when the broker answers 404.
    fn or_gone(self) -> Result<Option<T>, Diagnostics>;
    /// Done, also when the broker answers 404.
    fn or_done(self) -> Result<(), Diagnostics>;
}

impl<T> Absent<T> for Result<T, ClientError> {
    fn or_gone(self) -> Result<Option<T>, Diagnostics> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn or_done(self) -> Result<(), Diagnostics> {
        match self {
            Err(e) if !e.is_not_found() => Err(e.into()),
            _ => Ok(()),
        }
    }
}

//! A typed client of the broker's HTTP API, used by the Terraform provider
//! and the CLI. It speaks only the types in `api`: errors keep the
//! broker's problem details, so callers show its words and match on its
//! stable [`ProblemCode`]s.
//!
//! URLs are built with the `url` library: the endpoint's own path is kept
//! (a broker behind `https://host/deputy/` is called at
//! `https://host/deputy/v1/...`), path segments and query values are
//! escaped, so ids and label values with `/`, `,`, `=`, `&` or spaces
//! arrive as sent.
//!
//! Every request carries a secret (an API key or an ID token) and some
//! answers carry AWS credentials, so [`Transport`] refuses plain HTTP to
//! any host but this one unless told otherwise.

use std::path::Path;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::Phase;
use crate::wire::*;

/// Items a request asks for when following a list: the broker's maximum.
const PAGE_SIZE: u32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The broker answered with a problem (boxed: a verification report
    /// makes it large, and errors travel by value through every `?`).
    #[error("{} ({}): {}", .0.title, .0.code, .0.detail)]
    Problem(Box<Problem>),
    /// The broker could not be reached.
    #[error("cannot reach the deputy broker at {endpoint}: {cause}")]
    Transport { endpoint: String, cause: String },
    /// Something answered, but not as a deputy broker does: the endpoint
    /// points at another service (or a proxy's error page).
    #[error("{endpoint} is not a deputy broker: {answer}")]
    NotABroker { endpoint: String, answer: String },
}

impl ClientError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Problem(p) => Some(p.status),
            ClientError::Transport { .. } | ClientError::NotABroker { .. } => None,
        }
    }

    pub fn code(&self) -> Option<ProblemCode> {
        match self {
            ClientError::Problem(p) => Some(p.code),
            ClientError::Transport { .. } | ClientError::NotABroker { .. } => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code() == Some(ProblemCode::NotFound)
    }
}

pub type ClientResult<T> = Result<T, ClientError>;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: String,
}

/// How many times a create is sent before its error is final.
const CREATE_ATTEMPTS: u64 = 3;

/// How many times a request is sent while the broker's store does not
/// answer, and the pause between: with the broker's acquire timeout (2 s
/// by default), about 10 s in all before the error is final.
const STORE_ATTEMPTS: u32 = 3;
const STORE_RETRY_DELAY: Duration = Duration::from_secs(2);

/// Whether `e` may mean the broker never answered, or its answer was lost,
/// so that the request may have been applied: worth a retry with the same
/// Idempotency-Key. A broker draining for a restart answers 503.
fn answer_lost(e: &ClientError) -> bool {
    matches!(e, ClientError::Transport { .. }) || e.status() == Some(503)
}

/// A request path: segments (escaped one by one) and query pairs.
#[derive(Clone)]
struct Target<'a> {
    segments: Vec<&'a str>,
    query: Vec<(&'static str, String)>,
}

fn at<'a>(segments: impl IntoIterator<Item = &'a str>) -> Target<'a> {
    Target {
        segments: segments.into_iter().collect(),
        query: Vec::new(),
    }
}

impl Target<'_> {
    fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }
}

/// The API key in the key file at `path` (its first line), or a message
/// naming the file and what it must hold. The order of the places a key
/// may come from is in [`crate::model::api_key`].
pub fn read_key_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the API key from {}: {e}", path.display()))?;
    let key = crate::model::api_key::from_file_text(&text);
    crate::model::api_key::check(key, &format!("the key file {}", path.display()))
        .map_err(|e| e.0)?;
    Ok(key.to_string())
}

/// How the client may reach the broker: CA certificates it trusts beside
/// the system's (a broker behind a private CA), and whether plain HTTP to
/// another host is allowed. Certificates are always verified.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    roots: Vec<reqwest::Certificate>,
    insecure: bool,
}

impl Transport {
    /// `ca_file`: PEM certificates; the message names the file at fault.
    pub fn new(ca_file: Option<&Path>, insecure: bool) -> Result<Transport, String> {
        let roots = match ca_file {
            None => Vec::new(),
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
                let roots = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                    format!(
                        "the CA file {} is not PEM certificates: {e}",
                        path.display()
                    )
                })?;
                if roots.is_empty() {
                    return Err(format!(
                        "the CA file {} holds no certificate (expected PEM `BEGIN CERTIFICATE` blocks)",
                        path.display()
                    ));
                }
                roots
            }
        };
        Ok(Transport { roots, insecure })
    }

    /// Refuses `http://` to a host other than this machine unless
    /// `insecure`: keys and credentials would cross the network in clear.
    pub fn check(&self, endpoint: &Url) -> Result<(), String> {
        if endpoint.scheme() != "http" || self.insecure || is_loopback(endpoint) {
            return Ok(());
        }
        Err(format!(
            "the broker endpoint {endpoint} is plain HTTP to another host: API keys, ID tokens \
             and AWS credentials would cross the network readable by anyone on the path. Use \
             https:// (`deputy serve --tls-cert`, or a proxy that terminates TLS); only on a \
             network you trust, allow it with `insecure = true` in the provider block, or \
             --insecure / DEPUTY_INSECURE=true for the CLI"
        ))
    }
}

/// localhost, 127.0.0.0/8 or ::1: traffic that never leaves the machine.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl Client {
    /// `timeout` bounds each request, so a dead broker is an error, not a
    /// hung `terraform plan`. Fails when `transport` refuses `base`.
    pub fn new(
        base: Url,
        token: String,
        timeout: Duration,
        transport: &Transport,
    ) -> Result<Client, String> {
        transport.check(&base)?;
        // A redirect is an answer, not followed: the key would go along to
        // wherever it points (an https endpoint sending it to plain HTTP,
        // another host). See `call`.
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("deputy/", env!("CARGO_PKG_VERSION")));
        if base.scheme() == "http" {
            // Plain HTTP through a proxy (HTTP_PROXY, ALL_PROXY) hands the
            // proxy the key and the credentials in clear; over https a
            // proxy only tunnels.
            builder = builder.no_proxy();
        }
        if !transport.roots.is_empty() {
            builder = builder.tls_certs_merge(transport.roots.clone());
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {}", describe(&e)))?;
        Ok(Client { http, base, token })
    }

    pub fn endpoint(&self) -> &str {
        self.base.as_str()
    }

    fn url(&self, target: &Target<'_>) -> ClientResult<Url> {
        let mut url = self.base.clone();
        url.set_query(None);
        url.path_segments_mut()
            .map_err(|()| ClientError::Transport {
                endpoint: self.base.to_string(),
                cause: "the endpoint cannot have a path (use an http(s) URL)".into(),
            })?
            .pop_if_empty()
            .extend(&target.segments);
        if !target.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &target.query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// A request, sent again while the broker answers that its store does
    /// not (503 `store_unavailable`: nothing was changed), for a few
    /// seconds; then that answer is the error.
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        target: Target<'_>,
        body: Option<&B>,
    ) -> ClientResult<T> {
        let mut attempt = 1;
        loop {
            match self.send(method.clone(), target.clone(), body, None).await {
                Err(e)
                    if attempt < STORE_ATTEMPTS
                        && e.code() == Some(ProblemCode::StoreUnavailable) =>
                {
                    tracing::debug!(attempt, "the broker's store does not answer; asking again");
                    tokio::time::sleep(STORE_RETRY_DELAY).await;
                    attempt += 1;
                }
                answered => return answered,
            }
        }
    }

    /// A create: sent with an `Idempotency-Key` of its own and, when the
    /// answer is lost on the way (a dropped connection, a timeout, a broker
    /// draining for a restart), sent again with the same key, so that the
    /// broker makes one object however many tries it takes.
    async fn create<B: Serialize, T: DeserializeOwned>(
        &self,
        target: Target<'_>,
        body: &B,
    ) -> ClientResult<T> {
        let key = ulid::Ulid::new().to_string();
        let mut attempt = 1;
        loop {
            match self
                .send(Method::POST, target.clone(), Some(body), Some(&key))
                .await
            {
                Err(e) if attempt < CREATE_ATTEMPTS && answer_lost(&e) => {
                    tracing::debug!(attempt, error = %e, "retrying a create with its Idempotency-Key");
                    tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
                    attempt += 1;
                }
                answered => return answered,
            }
        }
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        target: Target<'_>,
        body: Option<&B>,
        idempotency_key: Option<&str>,
    ) -> ClientResult<T> {
        let transport = |cause: String| ClientError::Transport {
            endpoint: self.base.to_string(),
            cause,
        };
        let url = self.url(&target)?;
        // Ours, so that a request the broker never answered has one too.
        let request_id = ulid::Ulid::new().to_string();
        let started = std::time::Instant::now();
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(&self.token)
            .header(REQUEST_ID_HEADER, &request_id);
        if let Some(key) = idempotency_key {
            request = request.header(crate::model::idempotency::HEADER, key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = async {
            let response = request.send().await?;
            let status = response.status();
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                // Visible ASCII only (`to_str`), cut to a readable length.
                .and_then(|l| l.to_str().ok())
                .map(|l| l.chars().take(200).collect::<String>());
            Ok::<_, reqwest::Error>((status, location, response.bytes().await?))
        }
        .await;
        // One line per request: never the token or a body (either may
        // carry secrets).
        let path = &url[url::Position::BeforePath..];
        let duration_ms = started.elapsed().as_millis() as u64;
        let (status, location, bytes) = match answer {
            Ok(answer) => answer,
            Err(e) => {
                let cause = describe(&e);
                tracing::debug!(%method, path, duration_ms, request_id, error = %cause, "deputy broker request failed");
                return Err(transport(cause));
            }
        };
        tracing::debug!(%method, path, status = status.as_u16(), duration_ms, request_id, "deputy broker request");
        if status.is_redirection() {
            let to = location.map(|l| format!(" to {l}")).unwrap_or_default();
            return Err(transport(format!(
                "it answered {method} {path} with a redirect (HTTP {status}){to}, which deputy \
                 does not follow: the API key would go along. Set the endpoint to the broker's \
                 own URL"
            )));
        }
        if status.is_success() {
            let body: &[u8] = if status == StatusCode::NO_CONTENT {
                b"null"
            } else {
                &bytes
            };
            return serde_json::from_slice(body).map_err(|e| ClientError::NotABroker {
                endpoint: self.base.to_string(),
                answer: format!(
                    "it answered {method} {path} with HTTP {status} and a body deputy cannot read \
                     ({e})"
                ),
            });
        }
        match serde_json::from_slice::<Problem>(&bytes) {
            Ok(problem) => Err(ClientError::Problem(Box::new(problem))),
            // The body is not repeated: it is another service's page.
            Err(_) => Err(ClientError::NotABroker {
                endpoint: self.base.to_string(),
                answer: format!(
                    "it answered {method} {path} with HTTP {status} and a body that is not a \
                     deputy problem document"
                ),
            }),
        }
    }

    async fn get<T: DeserializeOwned>(&self, target: Target<'_>) -> ClientResult<T> {
        self.call::<(), T>(Method::GET, target, None).await
    }

    async fn delete(&self, target: Target<'_>) -> ClientResult<()> {
        self.call::<(), ()>(Method::DELETE, target, None).await
    }

    /// Every item of a list route, page after page (the largest pages the
    /// broker serves, so a `for_each` over many stacks costs few requests).
    async fn all<T: DeserializeOwned>(&self, target: Target<'_>) -> ClientResult<Vec<T>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut page = target.clone().query("limit", PAGE_SIZE.to_string());
            if let Some(cursor) = cursor.take() {
                page = page.query("cursor", cursor);
            }
            let list: List<T> = self.get(page).await?;
            items.extend(list.items);
            match list.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }

    pub async fn account(&self) -> ClientResult<Account> {
        self.get(at(["v1", "account"])).await
    }

    pub async fn create_space(&self, input: &SpaceInput) -> ClientResult<Space> {
        self.create(at(["v1", "spaces"]), input).await
    }

    pub async fn space(&self, id: &str) -> ClientResult<Space> {
        self.get(at(["v1", "spaces", id])).await
    }

    /// The spaces of the key's subtree.
    pub async fn spaces(&self) -> ClientResult<Vec<Space>> {
        self.get(at(["v1", "spaces"])).await
    }

    pub async fn replace_space(&self, id: &str, input: &SpaceInput) -> ClientResult<Space> {
        self.call(Method::PUT, at(["v1", "spaces", id]), Some(input))
            .await
    }

    pub async fn delete_space(&self, id: &str) -> ClientResult<()> {
        self.delete(at(["v1", "spaces", id])).await
    }

    pub async fn create_stack(&self, input: &StackInput) -> ClientResult<Stack> {
        self.create(at(["v1", "stacks"]), input).await
    }

    pub async fn stack(&self, id: &str) -> ClientResult<Stack> {
        self.get(at(["v1", "stacks", id])).await
    }

    pub async fn stacks(&self) -> ClientResult<Vec<Stack>> {
        self.all(at(["v1", "stacks"])).await
    }

    pub async fn replace_stack(&self, id: &str, input: &StackInput) -> ClientResult<Stack> {
        self.call(Method::PUT, at(["v1", "stacks", id]), Some(input))
            .await
    }

    pub async fn delete_stack(&self, id: &str) -> ClientResult<()> {
        self.delete(at(["v1", "stacks", id])).await
    }

    pub async fn create_integration(&self, input: &IntegrationInput) -> ClientResult<Integration> {
        self.create(at(["v1", "integrations"]), input).await
    }

    pub async fn integration(&self, id: &str) -> ClientResult<Integration> {
        self.get(at(["v1", "integrations", id])).await
    }

    pub async fn integration_by_name(&self, name: &str) -> ClientResult<Integration> {
        self.get(at(["v1", "integrations", "by-name", name])).await
    }

    /// `labels` must all match; `space` too when given.
    pub async fn integrations(
        &self,
        space: Option<&str>,
        labels: &Labels,
    ) -> ClientResult<Vec<Integration>> {
        let mut target = at(["v1", "integrations"]);
        if let Some(space) = space {
            target = target.query("space", space);
        }
        for (k, v) in labels {
            target = target.query("label", format!("{k}={v}"));
        }
        self.all(target).await
    }

    pub async fn replace_integration(
        &self,
        id: &str,
        input: &IntegrationInput,
    ) -> ClientResult<Integration> {
        self.call(Method::PUT, at(["v1", "integrations", id]), Some(input))
            .await
    }

    pub async fn delete_integration(&self, id: &str) -> ClientResult<()> {
        self.delete(at(["v1", "integrations", id])).await
    }

    pub async fn attach(
        &self,
        integration_id: &str,
        input: &AttachmentInput,
    ) -> ClientResult<Attachment> {
        let target = at(["v1", "integrations", integration_id, "attachments"]);
        self.create(target, input).await
    }

    pub async fn attachment(
        &self,
        integration_id: &str,
        stack_id: &str,
    ) -> ClientResult<Attachment> {
        self.get(at([
            "v1",
            "integrations",
            integration_id,
            "attachments",
            stack_id,
        ]))
        .await
    }

    pub async fn attachments_of_integration(
        &self,
        integration_id: &str,
    ) -> ClientResult<Vec<Attachment>> {
        self.all(at(["v1", "integrations", integration_id, "attachments"]))
            .await
    }

    pub async fn attachments_of_stack(&self, stack_id: &str) -> ClientResult<Vec<Attachment>> {
        self.all(at(["v1", "stacks", stack_id, "attachments"]))
            .await
    }

    pub async fn update_attachment(
        &self,
        integration_id: &str,
        stack_id: &str,
        update: &AttachmentUpdate,
    ) -> ClientResult<Attachment> {
        let target = at([
            "v1",
            "integrations",
            integration_id,
            "attachments",
            stack_id,
        ]);
        self.call(Method::PUT, target, Some(update)).await
    }

    pub async fn detach(&self, integration_id: &str, stack_id: &str) -> ClientResult<()> {
        self.delete(at([
            "v1",
            "integrations",
            integration_id,
            "attachments",
            stack_id,
        ]))
        .await
    }

    pub async fn external_ids(
        &self,
        integration_id: &str,
        stack_id: &str,
        phases: &[Phase],
    ) -> ClientResult<ExternalIds> {
        let phases: Vec<&str> = phases.iter().map(|p| p.as_str()).collect();
        let target = at(["v1", "integrations", integration_id, "external-ids"])
            .query("stack_id", stack_id)
            .query("phases", phases.join(","));
        self.get(target).await
    }

    pub async fn trust_policy(&self, integration_id: &str) -> ClientResult<TrustPolicy> {
        self.get(at(["v1", "integrations", integration_id, "trust-policy"]))
            .await
    }

    pub async fn role_template(
        &self,
        integration_id: &str,
        q: &RoleTemplateQuery,
    ) -> ClientResult<RoleTemplateDocument> {
        let mut target = at(["v1", "integrations", integration_id, "role-template"]);
        let single = [
            ("format", &q.format),
            ("state_bucket", &q.state_bucket),
            ("lock_table", &q.lock_table),
            ("template_url", &q.template_url),
        ];
        for (key, value) in single {
            if let Some(v) = value {
                target = target.query(key, v.as_str());
            }
        }
        for arn in &q.managed_policy_arn {
            target = target.query("managed_policy_arn", arn.as_str());
        }
        for stack in &q.stack_id {
            target = target.query("stack_id", stack.as_str());
        }
        self.get(target).await
    }

    pub async fn create_key(&self, input: &ApiKeyInput) -> ClientResult<CreatedApiKey> {
        self.create(at(["v1", "keys"]), input).await
    }

    pub async fn keys(&self) -> ClientResult<Vec<ApiKey>> {
        self.all(at(["v1", "keys"])).await
    }

    pub async fn revoke_key(&self, id: &str) -> ClientResult<ApiKey> {
        self.call::<(), ApiKey>(Method::DELETE, at(["v1", "keys", id]), None)
            .await
    }

    pub async fn create_runner_trust(&self, input: &RunnerTrustInput) -> ClientResult<RunnerTrust> {
        self.create(at(["v1", "runner-trusts"]), input).await
    }

    pub async fn runner_trust(&self, id: &str) -> ClientResult<RunnerTrust> {
        self.get(at(["v1", "runner-trusts", id])).await
    }

    pub async fn runner_trusts(&self) -> ClientResult<Vec<RunnerTrust>> {
        self.all(at(["v1", "runner-trusts"])).await
    }

    pub async fn replace_runner_trust(
        &self,
        id: &str,
        input: &RunnerTrustInput,
    ) -> ClientResult<RunnerTrust> {
        self.call(Method::PUT, at(["v1", "runner-trusts", id]), Some(input))
            .await
    }

    pub async fn delete_runner_trust(&self, id: &str) -> ClientResult<()> {
        self.delete(at(["v1", "runner-trusts", id])).await
    }

    /// Verifies an integration's role, for every attachment or for one stack.
    pub async fn verify(
        &self,
        integration_id: &str,
        stack_id: Option<&str>,
    ) -> ClientResult<VerifyReport> {
        let mut target = at(["v1", "integrations", integration_id, "verify"]);
        if let Some(stack) = stack_id {
            target = target.query("stack_id", stack);
        }
        self.call::<(), _>(Method::POST, target, None).await
    }

    /// Records a verification a worker ran with its own identity.
    pub async fn record_worker_verification(
        &self,
        integration_id: &str,
        report: &VerifyReport,
    ) -> ClientResult<VerifyReport> {
        let target = at(["v1", "integrations", integration_id, "worker-verification"]);
        self.call(Method::POST, target, Some(report)).await
    }

    /// Credentials for a run (runner keys).
    pub async fn credentials(
        &self,
        request: &CredentialsRequest,
    ) -> ClientResult<IssuedCredentials> {
        self.call(Method::POST, at(["v1", "credentials"]), Some(request))
            .await
    }

    /// Newest first, filtered: the first page of `filter.limit` events (100
    /// by default) after `filter.cursor`.
    pub async fn audit(&self, filter: &AuditFilter) -> ClientResult<Vec<AuditEvent>> {
        Ok(self.audit_page(filter).await?.items)
    }

    /// The same, with the cursor of the next page.
    pub async fn audit_page(&self, filter: &AuditFilter) -> ClientResult<List<AuditEvent>> {
        let mut target = at(["v1", "audit"]);
        let fields = [
            ("action", &filter.action),
            ("target", &filter.target),
            ("key_id", &filter.key_id),
            ("stack_id", &filter.stack_id),
            ("integration_id", &filter.integration_id),
            ("outcome", &filter.outcome),
            ("since", &filter.since),
            ("cursor", &filter.cursor),
        ];
        for (key, value) in fields {
            if let Some(v) = value {
                target = target.query(key, v.clone());
            }
        }
        if let Some(limit) = filter.limit {
            target = target.query("limit", limit.to_string());
        }
        self.get(target).await
    }
}

/// reqwest's errors hide the cause chain in Display; show all of it.
pub fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        Client::new(
            base.parse().unwrap(),
            "t".into(),
            Duration::from_secs(1),
            &Transport::new(None, true).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn plain_http_only_to_this_machine_unless_insecure() {
        let strict = Transport::default();
        for ok in [
            "https://deputy.example.com/",
            "http://127.0.0.1:8420/",
            "http://127.8.9.1/",
            "http://[::1]:8420/",
            "http://LOCALHOST:8420/",
        ] {
            assert!(strict.check(&ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for refused in [
            "http://deputy.example.com/",
            "http://10.0.0.5:8420/",
            "http://localhost.example.com/",
            "http://[fe80::1]/",
        ] {
            let why = strict.check(&refused.parse().unwrap()).unwrap_err();
            assert!(why.contains("insecure"), "{why}");
        }
        let insecure = Transport::new(None, true).unwrap();
        assert!(insecure.check(&"http://10.0.0.5/".parse().unwrap()).is_ok());
    }

    #[test]
    fn a_ca_file_must_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let why = Transport::new(Some(&empty), false).err().unwrap();
        assert!(why.contains("holds no certificate"), "{why}");
        let missing = dir.path().join("missing.pem");
        let why = Transport::new(Some(&missing), false).err().unwrap();
        assert!(why.contains("cannot read the CA file"), "{why}");
    }

    #[test]
    fn urls_keep_the_endpoint_path_and_escape_values() {
        let cases = [
            ("https://h/deputy", "https://h/deputy/v1/stacks/a%2Fb"),
            ("https://h/deputy/", "https://h/deputy/v1/stacks/a%2Fb"),
            ("http://h:8420", "http://h:8420/v1/stacks/a%2Fb"),
        ];
        for (base, want) in cases {
            let url = client(base).url(&at(["v1", "stacks", "a/b"])).unwrap();
            assert_eq!(url.as_str(), want, "{base}");
        }
        let target = at(["v1", "integrations"]).query("label", "team=net, ops & co=1");
        let url = client("https://h/").url(&target).unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [("label".to_string(), "team=net, ops & co=1".to_string())]
        );
    }
}

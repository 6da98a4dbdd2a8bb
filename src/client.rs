//! A typed client of the broker's HTTP API, used by the Terraform provider
//! and the CLI. Errors keep the broker's problem details, so callers can
//! show its words and match on its stable codes.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::*;
use crate::broker::error::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The broker answered with a problem.
    #[error("{} ({}): {}", .0.title, .0.code, .0.detail)]
    Problem(Problem),
    /// The broker could not be reached or answered nonsense.
    #[error("cannot reach the deputy broker at {endpoint}: {cause}")]
    Transport { endpoint: String, cause: String },
}

impl ClientError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Problem(p) => Some(p.status),
            ClientError::Transport { .. } => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

pub type ClientResult<T> = Result<T, ClientError>;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
    token: String,
}

/// Escapes user input (names, ids) for a URL path segment or query value.
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Client {
    /// `timeout` bounds each request, so a dead broker is an error, not a
    /// hung `terraform plan`.
    pub fn new(base: reqwest::Url, token: String, timeout: Duration) -> Client {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("deputy/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client configuration is valid");
        Client { http, base, token }
    }

    pub fn endpoint(&self) -> &str {
        self.base.as_str()
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> ClientResult<T> {
        let transport = |cause: String| ClientError::Transport {
            endpoint: self.base.to_string(),
            cause,
        };
        let url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| transport(e.to_string()))?;
        let mut request = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| transport(describe(&e)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport(describe(&e)))?;
        if status.is_success() {
            let body: &[u8] = if status == StatusCode::NO_CONTENT {
                b"null"
            } else {
                &bytes
            };
            return serde_json::from_slice(body)
                .map_err(|e| transport(format!("unexpected answer ({e})")));
        }
        match serde_json::from_slice::<Problem>(&bytes) {
            Ok(problem) => Err(ClientError::Problem(problem)),
            Err(_) => Err(transport(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ))),
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> ClientResult<T> {
        self.call::<(), T>(Method::GET, path, None).await
    }

    pub async fn account(&self) -> ClientResult<Account> {
        self.get("/v1/account").await
    }

    pub async fn create_stack(&self, input: &StackInput) -> ClientResult<Stack> {
        self.call(Method::POST, "/v1/stacks", Some(input)).await
    }

    pub async fn stack(&self, id: &str) -> ClientResult<Stack> {
        self.get(&format!("/v1/stacks/{}", url_escape(id))).await
    }

    pub async fn stacks(&self) -> ClientResult<Vec<Stack>> {
        Ok(self.get::<List<Stack>>("/v1/stacks").await?.items)
    }

    pub async fn replace_stack(&self, id: &str, input: &StackInput) -> ClientResult<Stack> {
        self.call(
            Method::PUT,
            &format!("/v1/stacks/{}", url_escape(id)),
            Some(input),
        )
        .await
    }

    pub async fn delete_stack(&self, id: &str) -> ClientResult<()> {
        self.call::<(), ()>(
            Method::DELETE,
            &format!("/v1/stacks/{}", url_escape(id)),
            None,
        )
        .await
    }

    pub async fn create_integration(&self, input: &IntegrationInput) -> ClientResult<Integration> {
        self.call(Method::POST, "/v1/integrations", Some(input))
            .await
    }

    pub async fn integration(&self, id: &str) -> ClientResult<Integration> {
        self.get(&format!("/v1/integrations/{}", url_escape(id)))
            .await
    }

    pub async fn integration_by_name(&self, name: &str) -> ClientResult<Integration> {
        self.get(&format!("/v1/integrations/by-name/{}", url_escape(name)))
            .await
    }

    /// `labels` must all match; `space` too when given.
    pub async fn integrations(
        &self,
        space: Option<&str>,
        labels: &Labels,
    ) -> ClientResult<Vec<Integration>> {
        let mut query = Vec::new();
        if let Some(space) = space {
            query.push(format!("space={}", url_escape(space)));
        }
        if !labels.is_empty() {
            let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            query.push(format!("label={}", url_escape(&pairs.join(","))));
        }
        let path = if query.is_empty() {
            "/v1/integrations".to_string()
        } else {
            format!("/v1/integrations?{}", query.join("&"))
        };
        Ok(self.get::<List<Integration>>(&path).await?.items)
    }

    pub async fn replace_integration(
        &self,
        id: &str,
        input: &IntegrationInput,
    ) -> ClientResult<Integration> {
        self.call(
            Method::PUT,
            &format!("/v1/integrations/{}", url_escape(id)),
            Some(input),
        )
        .await
    }

    pub async fn delete_integration(&self, id: &str) -> ClientResult<()> {
        self.call::<(), ()>(
            Method::DELETE,
            &format!("/v1/integrations/{}", url_escape(id)),
            None,
        )
        .await
    }

    pub async fn attach(
        &self,
        integration_id: &str,
        input: &AttachmentInput,
    ) -> ClientResult<Attachment> {
        self.call(
            Method::POST,
            &format!(
                "/v1/integrations/{}/attachments",
                url_escape(integration_id)
            ),
            Some(input),
        )
        .await
    }

    pub async fn attachment(
        &self,
        integration_id: &str,
        stack_id: &str,
    ) -> ClientResult<Attachment> {
        self.get(&format!(
            "/v1/integrations/{}/attachments/{}",
            url_escape(integration_id),
            url_escape(stack_id)
        ))
        .await
    }

    pub async fn attachments_of_integration(
        &self,
        integration_id: &str,
    ) -> ClientResult<Vec<Attachment>> {
        Ok(self
            .get::<List<Attachment>>(&format!(
                "/v1/integrations/{}/attachments",
                url_escape(integration_id)
            ))
            .await?
            .items)
    }

    pub async fn attachments_of_stack(&self, stack_id: &str) -> ClientResult<Vec<Attachment>> {
        Ok(self
            .get::<List<Attachment>>(&format!("/v1/stacks/{}/attachments", url_escape(stack_id)))
            .await?
            .items)
    }

    pub async fn update_attachment(
        &self,
        integration_id: &str,
        stack_id: &str,
        update: &AttachmentUpdate,
    ) -> ClientResult<Attachment> {
        self.call(
            Method::PUT,
            &format!(
                "/v1/integrations/{}/attachments/{}",
                url_escape(integration_id),
                url_escape(stack_id)
            ),
            Some(update),
        )
        .await
    }

    pub async fn detach(&self, integration_id: &str, stack_id: &str) -> ClientResult<()> {
        self.call::<(), ()>(
            Method::DELETE,
            &format!(
                "/v1/integrations/{}/attachments/{}",
                url_escape(integration_id),
                url_escape(stack_id)
            ),
            None,
        )
        .await
    }

    pub async fn external_ids(
        &self,
        integration_id: &str,
        stack_id: &str,
        phases: &[crate::model::Phase],
    ) -> ClientResult<ExternalIds> {
        let phases: Vec<&str> = phases.iter().map(|p| p.as_str()).collect();
        self.get(&format!(
            "/v1/integrations/{}/external-ids?stack_id={}&phases={}",
            url_escape(integration_id),
            url_escape(stack_id),
            phases.join(",")
        ))
        .await
    }

    pub async fn trust_policy(&self, integration_id: &str) -> ClientResult<TrustPolicy> {
        self.get(&format!(
            "/v1/integrations/{}/trust-policy",
            url_escape(integration_id)
        ))
        .await
    }

    pub async fn create_key(&self, input: &ApiKeyInput) -> ClientResult<CreatedApiKey> {
        self.call(Method::POST, "/v1/keys", Some(input)).await
    }

    pub async fn keys(&self) -> ClientResult<Vec<ApiKey>> {
        Ok(self.get::<List<ApiKey>>("/v1/keys").await?.items)
    }

    pub async fn revoke_key(&self, id: &str) -> ClientResult<ApiKey> {
        self.call::<(), ApiKey>(
            Method::DELETE,
            &format!("/v1/keys/{}", url_escape(id)),
            None,
        )
        .await
    }

    /// Verifies an integration's role, for every attachment or for one stack.
    pub async fn verify(
        &self,
        integration_id: &str,
        stack_id: Option<&str>,
    ) -> ClientResult<crate::sts::VerifyReport> {
        let mut path = format!("/v1/integrations/{}/verify", url_escape(integration_id));
        if let Some(stack) = stack_id {
            path.push_str(&format!("?stack_id={}", url_escape(stack)));
        }
        self.call::<(), _>(Method::POST, &path, None).await
    }

    /// Credentials for a run (runner keys).
    pub async fn credentials(
        &self,
        request: &CredentialsRequest,
    ) -> ClientResult<IssuedCredentials> {
        self.call(Method::POST, "/v1/credentials", Some(request))
            .await
    }

    /// Newest first; `query` is the URL query string without `?`, e.g.
    /// `action=stack.create&limit=10`.
    pub async fn audit(&self, query: &str) -> ClientResult<Vec<AuditEvent>> {
        let path = if query.is_empty() {
            "/v1/audit".to_string()
        } else {
            format!("/v1/audit?{query}")
        };
        Ok(self.get::<List<AuditEvent>>(&path).await?.items)
    }
}

/// reqwest's errors hide the cause chain in Display; show all of it.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

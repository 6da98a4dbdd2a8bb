//! Where `deputy exec` and `deputy credential-process` get the CI job's
//! OIDC ID token, when a runner trust (not a stored runner key) is the
//! run's identity: GitHub Actions' token service, an environment variable
//! (GitLab's `id_tokens:`), or a file (read again at every renewal, for
//! platforms that rotate it).
//!
//! Whatever lives in this process's environment is read once at start and
//! scrubbed from it ([`super::take_secret_from_environment`]), so neither
//! `/proc/<pid>/environ` nor the command deputy runs sees it.

use std::path::PathBuf;
use std::str::FromStr;

/// The variable `gitlab` reads: declare it under `id_tokens:` in the job.
pub const GITLAB_VARIABLE: &str = "DEPUTY_ID_TOKEN";
const GITHUB_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
const GITHUB_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

#[derive(Debug, Clone)]
pub enum IdTokenSource {
    /// A fresh token from GitHub Actions' token service for each request.
    GithubActions {
        url: Option<String>,
        request_token: Option<String>,
    },
    /// A variable of this process's environment.
    Env { name: String, value: Option<String> },
    /// A file holding the token.
    File(PathBuf),
}

impl FromStr for IdTokenSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let env = |name: &str| IdTokenSource::Env {
            name: name.to_string(),
            value: None,
        };
        match s {
            "github-actions" => Ok(IdTokenSource::GithubActions {
                url: None,
                request_token: None,
            }),
            "gitlab" => Ok(env(GITLAB_VARIABLE)),
            _ => match s.split_once(':') {
                Some(("env", name)) if !name.is_empty() => Ok(env(name)),
                Some(("file", path)) if !path.is_empty() => Ok(IdTokenSource::File(path.into())),
                _ => Err(format!(
                    "{s:?} is not a token source: use github-actions, gitlab (the \
                     {GITLAB_VARIABLE} variable), env:NAME or file:PATH"
                )),
            },
        }
    }
}

impl IdTokenSource {
    /// Moves what this source needs from the environment into memory.
    ///
    /// # Safety
    /// Changes the process environment: call only while no other thread
    /// runs (before the async runtime starts).
    pub unsafe fn take_from_environment(&mut self) {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            match self {
                IdTokenSource::GithubActions { url, request_token } => {
                    *url = super::take_secret_from_environment(GITHUB_URL);
                    *request_token = super::take_secret_from_environment(GITHUB_TOKEN);
                }
                IdTokenSource::Env { name, value } => {
                    *value = super::take_secret_from_environment(name);
                }
                IdTokenSource::File(_) => {}
            }
        }
    }

    /// The token to present, requested for `audience` where the source
    /// lets deputy choose (GitHub Actions); other sources carry the
    /// audience their job configuration chose.
    pub async fn token(&self, audience: &str) -> anyhow::Result<String> {
        let token = match self {
            IdTokenSource::GithubActions { url, request_token } => {
                let (Some(url), Some(request_token)) = (url, request_token) else {
                    anyhow::bail!(
                        "{GITHUB_URL} and {GITHUB_TOKEN} are not set: give the job \
                         `permissions: id-token: write` (GitHub sets them only then)"
                    );
                };
                github_token(url, request_token, audience).await?
            }
            IdTokenSource::Env { name, value } => value.clone().ok_or_else(|| {
                anyhow::anyhow!(
                    "{name} is not set: for GitLab, declare it under the job's `id_tokens:` with \
                     `aud: {audience}`"
                )
            })?,
            IdTokenSource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| {
                    anyhow::anyhow!("cannot read the ID token from {}: {e}", path.display())
                })?
                .trim()
                .to_string(),
        };
        if token.is_empty() {
            anyhow::bail!("the ID token is empty");
        }
        Ok(token)
    }
}

/// GitHub Actions' token service: GET the request URL with `audience`
/// added, authorized by the request token; the answer's `value` is the
/// ID token.
async fn github_token(url: &str, request_token: &str, audience: &str) -> anyhow::Result<String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        value: String,
    }
    let mut url =
        reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("{GITHUB_URL} is not a URL: {e}"))?;
    url.query_pairs_mut().append_pair("audience", audience);
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?
        .get(url)
        .bearer_auth(request_token)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach GitHub's ID token service: {e}"))?;
    if !response.status().is_success() {
        anyhow::bail!(
            "GitHub's ID token service answered {}: check the job has `permissions: id-token: \
             write`",
            response.status()
        );
    }
    Ok(response
        .json::<Answer>()
        .await
        .map_err(|e| anyhow::anyhow!("GitHub's ID token service answered no token: {e}"))?
        .value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_and_bad_ones_say_what_is_accepted() {
        assert!(matches!(
            "github-actions".parse(),
            Ok(IdTokenSource::GithubActions { .. })
        ));
        assert!(
            matches!("gitlab".parse(), Ok(IdTokenSource::Env { name, .. }) if name == GITLAB_VARIABLE)
        );
        assert!(
            matches!("env:CI_TOKEN".parse(), Ok(IdTokenSource::Env { name, .. }) if name == "CI_TOKEN")
        );
        assert!(
            matches!("file:/run/token".parse(), Ok(IdTokenSource::File(p)) if p == std::path::Path::new("/run/token"))
        );
        for bad in ["", "env:", "file:", "github", "vault:x"] {
            let e = bad.parse::<IdTokenSource>().unwrap_err();
            assert!(e.contains("github-actions, gitlab"), "{e}");
        }
    }
}

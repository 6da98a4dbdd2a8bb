//! OIDC ID tokens as runner identities: validating a token a CI system
//! issued for one job (GitHub Actions, GitLab CI, any OIDC issuer).
//!
//! A token is only considered when a runner trust names its issuer (read
//! from the unverified token by `model::id_token`), so the broker never
//! fetches keys from a URL a caller chose. The issuer's discovery document
//! and key set are fetched over HTTPS only and cached, per issuer; a key
//! id the cache does not know triggers one refetch (rate-limited), which
//! is how rotated keys are picked up. Validation is
//! `jsonwebtoken`'s, with the algorithm taken from the issuer's key and
//! limited to asymmetric ones: `none` and HMAC are never accepted, so a
//! public key can never be used as a shared secret.
//!
//! Which trust (stack, phases) a valid token gets is decided by the caller
//! (`service::credentials`) through `model::runner_trust`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::error::{ApiError, ApiResult};
use crate::model::id_token::{self, Unverified, quoted};
use crate::wire::RunnerTrust;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECONDS: u64 = 60;
/// How long fetched keys are used before they are fetched again.
const KEYS_TTL: Duration = Duration::from_secs(600);
/// Least time between two fetches for one issuer when a token names a key
/// id the cache lacks: rotation is picked up, a flood of made-up key ids
/// does not become a flood of requests to the issuer.
const MIN_REFETCH: Duration = Duration::from_secs(2);
/// How long a failed fetch is answered from memory: a down issuer is asked
/// again after this, not on every token.
const FAILURE_BACKOFF: Duration = Duration::from_secs(10);
/// While the issuer cannot be reached, keys fetched this recently are
/// still used (they are refreshed every [`KEYS_TTL`] when it can).
const KEYS_STALE_LIMIT: Duration = Duration::from_secs(3600);
/// A token whose signature, issuer, audience and times checked out.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub issuer: String,
    pub subject: String,
    /// The token's `jti`, when it has one (GitHub's and GitLab's do).
    pub id: Option<String>,
    /// Until when (Unix seconds) the token passes validation: its `exp`
    /// and the leeway.
    pub valid_until: u64,
    pub claims: Map<String, Value>,
    /// The runner trusts of the issuer whose audience the token carries.
    pub trusts: Vec<RunnerTrust>,
}

/// What the broker knows of one issuer's keys. Each issuer has its own
/// lock, held across its fetches: tokens of a slow issuer wait for that
/// issuer's one fetch, never for another issuer's.
#[derive(Default)]
struct IssuerKeys {
    /// The last key set fetched, and when.
    keys: Option<(JwkSet, Instant)>,
    /// The last failed fetch: why, and when. Answered again without a
    /// fetch for [`FAILURE_BACKOFF`].
    failed: Option<(String, Instant)>,
}

impl IssuerKeys {
    /// Key `kid` of a key set fetched within [`KEYS_STALE_LIMIT`]: while
    /// the issuer cannot be reached (a failed fetch, or within the
    /// back-off after one), runs whose keys were fetched lately go on.
    fn stale_key(&self, kid: &str) -> Option<Jwk> {
        let (keys, fetched) = self.keys.as_ref()?;
        (fetched.elapsed() < KEYS_STALE_LIMIT)
            .then(|| keys.find(kid).cloned())
            .flatten()
    }
}

pub struct OidcVerifier {
    http: reqwest::Client,
    /// Per issuer; the map's own lock is held only to find an entry.
    issuers: std::sync::Mutex<HashMap<String, Arc<Mutex<IssuerKeys>>>>,
}

impl OidcVerifier {
    /// `ca_file`: extra roots (PEM) to trust for issuers, beside the
    /// system's, for an issuer behind a private CA.
    pub fn new(ca_file: Option<&Path>) -> anyhow::Result<OidcVerifier> {
        let mut builder = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10));
        if let Some(path) = ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                anyhow::anyhow!("--oidc-ca-file {}: cannot read it: {e}", path.display())
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                anyhow::anyhow!(
                    "--oidc-ca-file {}: not PEM certificates: {e}",
                    path.display()
                )
            })?;
            if certs.is_empty() {
                anyhow::bail!("--oidc-ca-file {}: holds no certificate", path.display());
            }
            builder = builder.tls_certs_merge(certs);
        }
        Ok(OidcVerifier {
            http: builder.build()?,
            issuers: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Validates `token` against the runner trusts `trusts_of` returns for
    /// its (claimed, then checked) issuer.
    pub async fn verify<F, Fut>(&self, token: &str, trusts_of: F) -> ApiResult<VerifiedToken>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = ApiResult<Vec<RunnerTrust>>>,
    {
        let refused = |why: String| ApiError::Unauthenticated(format!("ID token refused: {why}"));
        let Unverified { alg, kid, issuer } = id_token::read(token).map_err(|e| refused(e.0))?;
        let trusts = trusts_of(issuer.clone()).await?;
        if trusts.is_empty() {
            return Err(refused(format!(
                "no runner trust names its issuer {issuer:?} (create one with `deputy \
                 runner-trust create`)"
            )));
        }
        let kid = kid.ok_or_else(|| {
            refused("its header has no `kid`, so its signing key cannot be chosen".into())
        })?;
        let kid = kid.as_str();
        let jwk = self.key(&issuer, kid).await?;
        if let Some(key_alg) = jwk.common.key_algorithm
            && key_alg.to_string() != format!("{alg:?}")
        {
            return Err(refused(format!(
                "its header says {alg:?}, but the issuer's key {kid:?} is for {key_alg}"
            )));
        }
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| refused(format!("the issuer's key {kid:?} cannot be used: {e}")))?;
        let mut audiences: Vec<&str> = trusts.iter().map(|t| t.audience.as_str()).collect();
        audiences.sort_unstable();
        audiences.dedup();
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| {
                refused(match e.kind() {
                    ErrorKind::ExpiredSignature => "it has expired (`exp`)".into(),
                    ErrorKind::ImmatureSignature => "it is not valid yet (`nbf`)".into(),
                    ErrorKind::InvalidAudience => format!(
                        "its audience (`aud`) is none of those its issuer's runner trusts expect: {}",
                        audiences.join(", ")
                    ),
                    ErrorKind::InvalidIssuer => "its issuer does not match".into(),
                    ErrorKind::InvalidSignature => {
                        format!("its signature does not verify with the issuer's key {kid:?}")
                    }
                    ErrorKind::InvalidAlgorithm => format!(
                        "{:?} does not fit the issuer's key {kid:?}",
                        alg
                    ),
                    ErrorKind::MissingRequiredClaim(c) => format!("it has no `{c}` claim"),
                    _ => format!("it is not valid: {}", quoted(&e)),
                })
            })?
            .claims;
        let now = jsonwebtoken::get_current_timestamp();
        match claims.get("iat").and_then(Value::as_u64) {
            None => return Err(refused("it has no numeric `iat` claim".into())),
            Some(iat) if iat > now + LEEWAY_SECONDS => {
                return Err(refused("it was issued in the future (`iat`)".into()));
            }
            Some(_) => {}
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let token_audiences = audience_values(claims.get("aud"));
        let trusts = trusts
            .into_iter()
            .filter(|t| token_audiences.contains(&t.audience.as_str()))
            .collect();
        let valid_until = claims
            .get("exp")
            .and_then(Value::as_f64)
            .map_or(now, |exp| exp as u64)
            .saturating_add(LEEWAY_SECONDS);
        Ok(VerifiedToken {
            valid_until,
            id: claims
                .get("jti")
                .and_then(Value::as_str)
                .map(str::to_string),
            issuer,
            subject,
            claims,
            trusts,
        })
    }

    /// The issuer's key `kid`, from the cache or fetched.
    async fn key(&self, issuer: &str, kid: &str) -> ApiResult<Jwk> {
        let entry = self
            .issuers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(issuer.to_string())
            .or_default()
            .clone();
        let mut known = entry.lock().await;
        if let Some((keys, fetched)) = &known.keys {
            let age = fetched.elapsed();
            if let Some(jwk) = keys.find(kid).filter(|_| age < KEYS_TTL) {
                return Ok(jwk.clone());
            }
            if age < MIN_REFETCH {
                return Err(unknown_kid(issuer, kid));
            }
        }
        if let Some((why, at)) = &known.failed
            && at.elapsed() < FAILURE_BACKOFF
        {
            let why = ApiError::IssuerUnavailable(format!(
                "{why} ({} s ago; asked again {} s after a failure)",
                at.elapsed().as_secs(),
                FAILURE_BACKOFF.as_secs()
            ));
            return known.stale_key(kid).ok_or(why);
        }
        match self.fetch_keys(issuer).await {
            Ok(keys) => {
                let found = keys.find(kid).cloned();
                *known = IssuerKeys {
                    keys: Some((keys, Instant::now())),
                    failed: None,
                };
                found.ok_or_else(|| unknown_kid(issuer, kid))
            }
            Err(why) => {
                known.failed = Some((why.to_string(), Instant::now()));
                known.stale_key(kid).ok_or(why)
            }
        }
    }

    /// Discovery, then the key set, both over HTTPS.
    async fn fetch_keys(&self, issuer: &str) -> ApiResult<JwkSet> {
        #[derive(serde::Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let discovery_url = format!("{issuer}/.well-known/openid-configuration");
        let discovery: Discovery = self.get_json(&discovery_url).await?;
        if discovery.issuer != issuer {
            return Err(ApiError::IssuerUnavailable(format!(
                "{discovery_url} names issuer {:?}, not {issuer:?}: the runner trust's issuer \
                 must be exactly the one the provider publishes",
                discovery.issuer
            )));
        }
        self.get_json(&discovery.jwks_uri).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> ApiResult<T> {
        let unavailable =
            |why: String| ApiError::IssuerUnavailable(format!("cannot read {url}: {why}"));
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| unavailable(error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("it answered {}", response.status())));
        }
        response
            .json()
            .await
            .map_err(|e| unavailable(format!("not the JSON expected: {e}")))
    }
}

fn unknown_kid(issuer: &str, kid: &str) -> ApiError {
    ApiError::Unauthenticated(format!(
        "ID token refused: its key id {kid:?} is not among the signing keys {issuer} publishes"
    ))
}

/// `aud` is a string or an array of strings.
fn audience_values(aud: Option<&Value>) -> Vec<&str> {
    match aud {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// An error and its causes on one line (reqwest hides TLS failures in the
/// source chain).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

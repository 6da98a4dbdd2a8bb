//! The AWS side of deputy: the broker's own identity, verifying that a role
//! is safe to use (assumable with its External ID, refused without), and
//! vending short-lived credentials for runs.
//!
//! Credentials come from the default chain (environment, profile, web
//! identity, instance or container role). `endpoint` overrides the STS
//! endpoint (tests point it at the fakecloud emulator).

pub mod canary;
pub mod identity;
mod verify;

use std::fmt;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_sdk_sts::types::Tag;

pub use verify::{NO_CANARY, Prepared, Progress, RetryPolicy, VerifyRequest};

use crate::model::session_names;
use crate::model::{ExternalId, RoleArn};

/// A secret value: never shown by `Debug` or `Display`, so it cannot reach
/// a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The value, for the one place that must hand it over.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Temporary credentials from AssumeRole.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    /// Seconds since the Unix epoch.
    pub expiration: i64,
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub assumed_role_arn: String,
}

/// An STS call that failed, with AWS's error code when there was one.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StsError {
    pub code: String,
    pub message: String,
}

impl StsError {
    /// A freshly created role answers AccessDenied for a while; that is the
    /// one error waiting can fix.
    pub fn is_access_denied(&self) -> bool {
        self.code == "AccessDenied"
    }

    fn from_sdk<E: ProvideErrorMetadata + std::error::Error + 'static, R: fmt::Debug>(
        e: aws_sdk_sts::error::SdkError<E, R>,
    ) -> StsError {
        let code = e.code().unwrap_or("RequestFailed").to_string();
        let message = e
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| aws_sdk_sts::error::DisplayErrorContext(&e).to_string());
        StsError { code, message }
    }
}

/// One AssumeRole request.
pub struct AssumeRequest<'a> {
    pub role: &'a RoleArn,
    pub external_id: Option<&'a ExternalId>,
    pub session_name: &'a str,
    pub duration: Duration,
    pub tags: &'a [(String, String)],
    /// Passed as SourceIdentity (already within STS's rules, see
    /// `model::session_names::source_identity`); the trust policy must then allow
    /// `sts:SetSourceIdentity`.
    pub source_identity: Option<&'a str>,
    /// Managed policies passed as session policies (`PolicyArns`): the
    /// session's permissions are the role's intersected with theirs.
    pub policy_arns: &'a [String],
    pub region: &'a str,
}

#[derive(Clone)]
pub struct Sts {
    config: SdkConfig,
}

impl Sts {
    /// Loads the default credential chain; `endpoint` overrides where STS is.
    pub async fn load(endpoint: Option<&str>) -> Sts {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new("us-east-1"));
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        Sts {
            config: loader.load().await,
        }
    }

    fn client(&self, region: &str) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    /// A client acting with `creds` instead of the broker's identity.
    fn client_as(&self, creds: &Credentials, region: &str) -> aws_sdk_sts::Client {
        let provider = aws_sdk_sts::config::Credentials::new(
            &creds.access_key_id,
            creds.secret_access_key.expose(),
            Some(creds.session_token.expose().to_string()),
            None,
            "deputy-session",
        );
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .credentials_provider(provider)
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    /// The ARN the broker's own credentials belong to.
    pub async fn caller_arn(&self) -> Result<String, StsError> {
        caller_arn(&self.client("us-east-1")).await
    }

    pub async fn assume(&self, r: &AssumeRequest<'_>) -> Result<Credentials, StsError> {
        assume_with(&self.client(r.region), r).await
    }

    /// AssumeRole made with `creds` instead of the broker's identity (the
    /// canary's probes).
    pub async fn assume_as(
        &self,
        creds: &Credentials,
        r: &AssumeRequest<'_>,
    ) -> Result<Credentials, StsError> {
        assume_with(&self.client_as(creds, r.region), r).await
    }

    /// GetCallerIdentity made with `creds`: proves they work.
    pub async fn caller_arn_as(
        &self,
        creds: &Credentials,
        region: &str,
    ) -> Result<String, StsError> {
        caller_arn(&self.client_as(creds, region)).await
    }
}

async fn assume_with(
    client: &aws_sdk_sts::Client,
    r: &AssumeRequest<'_>,
) -> Result<Credentials, StsError> {
    let tags = r
        .tags
        .iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(session_names::tag_value(v))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StsError {
            code: "InvalidTag".into(),
            message: e.to_string(),
        })?;
    let out = client
        .assume_role()
        .role_arn(r.role.as_str())
        .role_session_name(r.session_name)
        .set_external_id(r.external_id.map(|id| id.to_string()))
        .duration_seconds(r.duration.as_secs().min(i32::MAX as u64) as i32)
        .set_tags((!tags.is_empty()).then_some(tags))
        .set_source_identity(r.source_identity.map(str::to_string))
        .set_policy_arns((!r.policy_arns.is_empty()).then(|| {
            r.policy_arns
                .iter()
                .map(|arn| {
                    aws_sdk_sts::types::PolicyDescriptorType::builder()
                        .arn(arn)
                        .build()
                })
                .collect()
        }))
        .send()
        .await
        .map_err(StsError::from_sdk)?;
    let c = out.credentials().ok_or_else(|| StsError {
        code: "NoCredentials".into(),
        message: "AssumeRole answered without credentials".into(),
    })?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: Secret::new(c.secret_access_key()),
        session_token: Secret::new(c.session_token()),
        expiration: c.expiration().secs(),
        assumed_role_arn: out
            .assumed_role_user()
            .map(|u| u.arn().to_string())
            .unwrap_or_default(),
    })
}

async fn caller_arn(client: &aws_sdk_sts::Client) -> Result<String, StsError> {
    let out = client
        .get_caller_identity()
        .send()
        .await
        .map_err(StsError::from_sdk)?;
    Ok(out.arn().unwrap_or_default().to_string())
}

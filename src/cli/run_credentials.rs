//! Short-lived AWS credentials for a stack's run, fetched from the broker
//! (and, in worker mode, assumed here): what `deputy exec` hands its
//! command, and `deputy credential-process` as `credential_process` JSON
//! for the AWS SDKs and CLI.

use std::time::Duration;

use clap::Args;

use super::BrokerArgs;
use super::id_token::IdTokenSource;
use crate::model::{Phase, RunId, timestamp};
use crate::sts::{AssumeRequest, Sts};
use crate::wire::{CredentialsRequest, IssuedCredentials};

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The stack the run belongs to (the runner key's, or one a runner
    /// trust grants the ID token).
    #[arg(long, env = "DEPUTY_STACK")]
    pub stack: String,
    /// `read` for plans, `write` for applies.
    #[arg(long, env = "DEPUTY_PHASE", value_parser = parse_phase)]
    pub phase: Phase,
    /// The run's id; it becomes the AWS session name, so CloudTrail shows
    /// which run did what.
    #[arg(long = "run-id", env = "DEPUTY_RUN_ID", value_parser = parse_run_id)]
    pub run_id: String,
    /// Authenticate with the CI job's OIDC ID token instead of a runner
    /// key, so the pipeline stores no secret: `github-actions` (needs
    /// `permissions: id-token: write`), `gitlab` (the DEPUTY_ID_TOKEN
    /// variable declared under `id_tokens:`), `env:NAME` or `file:PATH`. A
    /// runner trust must accept the token (`deputy runner-trust create`).
    #[arg(
        long = "id-token",
        env = "DEPUTY_ID_TOKEN_FROM",
        value_name = "SOURCE",
        conflicts_with_all = ["token", "token_file"]
    )]
    pub id_token: Option<IdTokenSource>,
    /// The audience to request the ID token for (GitHub Actions); it must
    /// be the runner trust's audience.
    #[arg(
        long = "id-token-audience",
        env = "DEPUTY_ID_TOKEN_AUDIENCE",
        default_value = "deputy"
    )]
    pub id_token_audience: String,
}

fn parse_phase(s: &str) -> Result<Phase, String> {
    s.parse().map_err(|e: crate::model::Invalid| e.0)
}

/// Checked here too, so a bad run id fails before any request.
fn parse_run_id(s: &str) -> Result<String, String> {
    s.parse::<RunId>()
        .map(String::from)
        .map_err(|e: crate::model::Invalid| e.0)
}

/// Plain credentials, whichever mode the integration is in.
#[derive(Clone)]
pub struct RunCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: String,
    pub region: String,
}

/// Asks the broker; in worker mode, assumes the role here with this
/// machine's own AWS identity.
pub async fn fetch(args: &RunArgs) -> anyhow::Result<RunCredentials> {
    let client = match &args.id_token {
        Some(source) => args
            .broker
            .client_with(source.token(&args.id_token_audience).await?)?,
        None => args.broker.client()?,
    };
    let issued = client
        .credentials(&CredentialsRequest {
            stack_id: Some(args.stack.clone()),
            phase: args.phase,
            run_id: args.run_id.clone(),
        })
        .await?;
    let worker = match issued {
        IssuedCredentials::Broker(c) => {
            return Ok(RunCredentials {
                access_key_id: c.access_key_id,
                secret_access_key: c.secret_access_key,
                session_token: c.session_token,
                expiration: c.expiration,
                region: c.session.region.to_string(),
            });
        }
        IssuedCredentials::Worker(w) => w,
    };
    let sts = Sts::load(std::env::var("DEPUTY_AWS_ENDPOINT_URL").ok().as_deref()).await;
    let session = &worker.session;
    let creds = sts
        .assume(&AssumeRequest {
            role: &session.role_arn,
            external_id: Some(&session.external_id),
            session_name: &session.session_name,
            duration: Duration::from_secs(session.duration_seconds as u64),
            tags: &[],
            source_identity: session.source_identity.as_deref(),
            policy_arns: &worker.session_policy_arns,
            region: session.region.as_str(),
        })
        .await?;
    Ok(RunCredentials {
        access_key_id: creds.access_key_id,
        secret_access_key: creds.secret_access_key.expose().to_string(),
        session_token: creds.session_token.expose().to_string(),
        expiration: timestamp::from_unix(creds.expiration).ok_or_else(|| {
            anyhow::anyhow!(
                "STS answered an expiration out of range: {}",
                creds.expiration
            )
        })?,
        region: session.region.to_string(),
    })
}

/// `deputy credential-process`: the JSON the AWS SDKs read from a
/// `credential_process` command (Version 1).
pub async fn credential_process(args: RunArgs) -> anyhow::Result<()> {
    let c = fetch(&args).await?;
    println!(
        "{}",
        serde_json::json!({
            "Version": 1,
            "AccessKeyId": c.access_key_id,
            "SecretAccessKey": c.secret_access_key,
            "SessionToken": c.session_token,
            "Expiration": c.expiration,
        })
    );
    Ok(())
}

//! `deputy exec` and `deputy credential-process`: short-lived AWS
//! credentials for a stack's run, as environment variables for a command or
//! as `credential_process` JSON for the AWS SDKs and CLI.

use std::process::Stdio;
use std::time::Duration;

use clap::Args;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::id_token::IdTokenSource;
use super::mask::{Masker, Secrets};

use super::BrokerArgs;
use crate::api::{CredentialsRequest, IssuedCredentials};
use crate::model::{Phase, RunId, timestamp};
use crate::sts::{AssumeRequest, Sts};

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
                region: c.region.to_string(),
            });
        }
        IssuedCredentials::Worker(w) => w,
    };
    let sts = Sts::load(std::env::var("DEPUTY_AWS_ENDPOINT_URL").ok().as_deref()).await;
    let creds = sts
        .assume(&AssumeRequest {
            role: &worker.role_arn,
            external_id: Some(&worker.external_id),
            session_name: &worker.session_name,
            duration: Duration::from_secs(worker.duration_seconds as u64),
            tags: &[],
            source_identity: worker.source_identity.as_deref(),
            policy_arns: &worker.session_policy_arns,
            region: worker.region.as_str(),
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
        region: worker.region.to_string(),
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

/// `deputy exec` options beyond the run's identity.
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Serve credentials to the command from a loopback endpoint that the
    /// AWS SDKs and CLI poll (AWS_CONTAINER_CREDENTIALS_FULL_URI), renewing
    /// them from the broker before they expire, instead of fixed
    /// environment variables. For runs that outlive one session.
    #[arg(long)]
    pub refresh: bool,
    /// With --refresh: renew when fewer than this many seconds remain.
    #[arg(long, default_value_t = 300)]
    pub refresh_before: i64,
}

/// `deputy exec -- CMD...`: runs CMD with the credentials in its
/// environment, masking them in its output, and exits with its status.
pub async fn exec(args: RunArgs, exec: ExecArgs, command: Vec<String>) -> anyhow::Result<i32> {
    let (program, rest) = command.split_first().ok_or_else(|| {
        anyhow::anyhow!("no command given: use `deputy exec [OPTIONS] -- COMMAND [ARGS...]`")
    })?;
    // Other processes of this user may not read this one's memory or
    // environment (/proc/<pid>/environ, ptrace) while it holds the key.
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        eprintln!("deputy: could not make this process non-dumpable: {e}");
    }
    let c = fetch(&args).await?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest)
        .env("AWS_REGION", &c.region)
        .env("AWS_DEFAULT_REGION", &c.region)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The runner key stays with deputy: the command gets AWS access only,
    // and no way to the key either (a file it could read is a key it has).
    // The ID token source's own variables were taken out of this process's
    // environment at start.
    for var in DEPUTY_CREDENTIALS {
        cmd.env_remove(var);
    }
    isolate_credential_chain(&mut cmd);
    let secrets = Secrets::default();
    secrets.add(&c.secret_access_key);
    secrets.add(&c.session_token);
    if exec.refresh {
        let (uri, token) =
            super::credential_server::start(args.clone(), c, exec.refresh_before, secrets.clone())
                .await?;
        cmd.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri)
            .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &token);
        secrets.add(&token);
    } else {
        cmd.env("AWS_ACCESS_KEY_ID", &c.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &c.secret_access_key)
            .env("AWS_SESSION_TOKEN", &c.session_token)
            .env("AWS_SECURITY_TOKEN", &c.session_token)
            .env("AWS_CREDENTIAL_EXPIRATION", &c.expiration);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot run {program}: {e}"))?;
    let out = tokio::spawn(mask(
        child.stdout.take().expect("piped"),
        tokio::io::stdout(),
        secrets.clone(),
    ));
    let err = tokio::spawn(mask(
        child.stderr.take().expect("piped"),
        tokio::io::stderr(),
        secrets,
    ));
    let status = forward_signals_until_exit(&mut child).await?;
    let _ = out.await;
    let _ = err.await;
    Ok(exit_code(status))
}

/// The variables that lead to deputy's own credentials: the runner key,
/// the file holding it, and which ID token to present.
const DEPUTY_CREDENTIALS: &[&str] = &["DEPUTY_TOKEN", "DEPUTY_TOKEN_FILE", "DEPUTY_ID_TOKEN_FROM"];

/// Every source of AWS credentials the SDKs and the CLI would consult
/// before (or instead of) what deputy hands over. The container endpoint
/// (`--refresh`) comes late in their default chain, so anything earlier (an
/// ECS or EKS runner's variables, a `[default]` profile in `~/.aws`) would
/// silently win: the command must find deputy's session and nothing else.
const CREDENTIAL_SOURCES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

fn isolate_credential_chain(cmd: &mut tokio::process::Command) {
    for var in CREDENTIAL_SOURCES {
        cmd.env_remove(var);
    }
    // Shared files hold profiles, SSO sessions and credential_process
    // entries; instance metadata is the chain's last resort.
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

/// Waits for the child, passing on the signals a CI runner or a service
/// manager sends to `deputy exec` alone (a cancelled job, `docker stop`), so
/// the command can stop as it would if run directly. A Ctrl-C typed in a
/// terminal already reaches the whole foreground process group, child
/// included; forwarding it too would make Terraform see two interrupts and
/// abandon its graceful stop, so SIGINT and SIGQUIT are only passed on when
/// deputy has no terminal.
async fn forward_signals_until_exit(
    child: &mut tokio::process::Child,
) -> std::io::Result<std::process::ExitStatus> {
    use std::io::IsTerminal;

    use nix::sys::signal::{Signal, kill};
    use tokio::signal::unix::{SignalKind, signal};

    let pid = child.id().map(|id| nix::unistd::Pid::from_raw(id as i32));
    let from_terminal = std::io::stdin().is_terminal();
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    loop {
        let sig = tokio::select! {
            status = child.wait() => return status,
            Some(()) = term.recv() => Signal::SIGTERM,
            Some(()) = hup.recv() => Signal::SIGHUP,
            Some(()) = int.recv() => Signal::SIGINT,
            Some(()) = quit.recv() => Signal::SIGQUIT,
        };
        let typed = matches!(sig, Signal::SIGINT | Signal::SIGQUIT) && from_terminal;
        if let (Some(pid), false) = (pid, typed) {
            let _ = kill(pid, sig);
        }
    }
}

/// The child's exit code, or 128 + n when signal n killed it, as shells
/// report it.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|n| 128 + n))
        .unwrap_or(1)
}

/// Copies `from` to `to` as it arrives, byte for byte, but for the secrets.
async fn mask(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    secrets: Secrets,
) -> std::io::Result<()> {
    let mut masker = Masker::new(secrets);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        let shown = if n == 0 {
            masker.finish()
        } else {
            masker.push(&buf[..n])
        };
        to.write_all(&shown).await?;
        to.flush().await?;
        if n == 0 {
            return Ok(());
        }
    }
}

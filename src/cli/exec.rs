//! `deputy exec -- CMD...`: runs a command with the run's AWS credentials
//! (fixed in its environment, or served and renewed from a loopback
//! endpoint with `--refresh`), and nothing that leads to deputy's own key;
//! masks the credentials in its output, passes on the signals meant for it,
//! and exits with its status.

use std::process::Stdio;

use clap::Args;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::credential_server;
use super::mask::{Masker, Secrets};
use super::run_credentials::{RunArgs, fetch};

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
pub async fn run(args: RunArgs, exec: ExecArgs, command: Vec<String>) -> anyhow::Result<i32> {
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
            credential_server::start(args.clone(), c, exec.refresh_before, secrets.clone()).await?;
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

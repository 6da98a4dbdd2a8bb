//! The `deputy` command line: one file per subcommand; `output` holds how
//! object commands print (tables or JSON).

mod attachment;
mod audit;
mod credential_server;
mod exec;
mod healthcheck;
mod id_token;
mod integration;
mod mask;
mod output;
mod role_template;
mod run_credentials;
mod runner_trust;
mod space;
mod stack;
mod token;
mod verify;

/// Text from the broker made safe to print on a terminal.
pub use output::visible;

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::broker::config::ServeConfig;
use crate::client::{Client, Transport};
use crate::model::api_key;

#[derive(Debug, Parser)]
#[command(
    name = "deputy",
    version,
    about = "Short-lived AWS credentials and confused-deputy-safe trust policies for IaC stacks",
    long_about = "deputy gives infrastructure-as-code stacks short-lived AWS credentials, with a \
                  per-stack, per-phase External ID that closes the confused-deputy hole.\n\n\
                  `deputy serve` runs the broker; the other commands talk to it."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// How log lines are written to stderr: `text` for people, `json` (one
    /// object a line) for log shippers. DEPUTY_LOG sets the level.
    #[arg(
        long,
        global = true,
        env = "DEPUTY_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `deputy recover-admin-key`.
#[derive(Debug, clap::Args)]
pub struct RecoverArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// A new file for the key (refused if it exists).
    #[arg(long = "key-file", value_name = "FILE")]
    pub key_file: std::path::PathBuf,
    /// Let the key expire this many seconds from now.
    #[arg(long = "expires-in", value_name = "SECONDS")]
    pub expires_in: Option<u64>,
}

/// The store a maintenance command works on, named as `deputy serve
/// --store` names it; it must exist.
#[derive(Debug, Clone, Args)]
pub struct StoreArg {
    /// The broker's store: a SQLite file (`sqlite://PATH` or PATH) or a
    /// PostgreSQL URL.
    #[arg(
        long = "store",
        env = "DEPUTY_STORE",
        hide_env_values = true,
        value_name = "URL",
        default_value = crate::broker::config::DEFAULT_STORE
    )]
    pub url: String,
}

/// `deputy migrate`.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Only report the schema's version and the migrations pending; change
    /// no data. Exits 0 when none are pending, 2 when some are, 1 on an
    /// error (the store unreachable, a schema newer than this deputy).
    #[arg(long)]
    pub check: bool,
}

/// `deputy backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// A new file for the backup (refused if it exists).
    #[arg(long = "to", value_name = "FILE")]
    pub to: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the broker: the registry of stacks, AWS integrations, attachments
    /// and API keys, served over HTTP.
    Serve(ServeConfig),
    /// Mint an admin key straight into the store, for when no usable admin
    /// key is left (the last one expired or was lost). Run it where the
    /// store is reachable with its own credentials (the SQLite file, or the
    /// PostgreSQL URL); the key goes to a new file (mode 0600), never to
    /// the terminal, and the minting is audited as `key.recover`.
    RecoverAdminKey(RecoverArgs),
    /// Bring the store's schema up to date for this deputy, or with
    /// --check report where it stands. Back the store up first. A broker
    /// started with --migrate auto (the default) does this itself; this
    /// command is for upgrades run as their own step (--migrate never).
    Migrate(MigrateArgs),
    /// Write a consistent copy of a SQLite store to a new file while the
    /// broker runs (a plain copy of the live file misses recent writes).
    /// The copy is integrity-checked; restore by stopping the broker and
    /// putting the file in the store's place. For PostgreSQL, use pg_dump.
    Backup(BackupArgs),
    /// List, show, create, update and delete spaces: the tree stacks,
    /// integrations and keys belong to, and what each key may reach.
    #[command(subcommand)]
    Space(space::SpaceCommand),
    /// List, show, create, update and delete stacks.
    #[command(subcommand)]
    Stack(stack::StackCommand),
    /// List, show, create, update and delete AWS integrations (their ids
    /// are the import ids of `deputy_aws_integration`).
    #[command(subcommand)]
    Integration(integration::IntegrationCommand),
    /// List, show, create, update and delete attachments of integrations
    /// to stacks (ids `INTEGRATION_ID/STACK_ID`).
    #[command(subcommand)]
    Attachment(attachment::AttachmentCommand),
    /// Create, list, show and revoke API keys.
    #[command(subcommand, visible_alias = "token")]
    Key(token::TokenCommand),
    /// Print the audit trail, newest first, with the API's filters.
    Audit(audit::AuditArgs),
    /// Manage runner trusts: which OIDC ID tokens of CI jobs get
    /// credentials for which stack and phases, with no stored runner key.
    #[command(subcommand)]
    RunnerTrust(runner_trust::RunnerTrustCommand),
    /// Run a command with short-lived AWS credentials for a stack's run
    /// (as a runner key, or the CI job's OIDC ID token with --id-token).
    /// Secrets are masked in its output.
    Exec {
        #[command(flatten)]
        run: run_credentials::RunArgs,
        #[command(flatten)]
        exec: exec::ExecArgs,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Prove an integration's role is safe for deputy: assumable with each
    /// attached stack's External IDs, and refused without one, with another
    /// integration's, a made-up one and an unattached stack's. The outcome is
    /// recorded: a failure stops vending where it failed. Exits 1 when a
    /// role is not safe.
    Verify {
        #[command(flatten)]
        broker: BrokerArgs,
        /// The integration's id or name.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        integration: Option<String>,
        /// Verify for this stack (attached or not) instead of every attachment.
        #[arg(long, requires = "integration")]
        stack: Option<String>,
        /// Verify every broker-mode integration that has attachments, and
        /// print one line each with its state.
        #[arg(long)]
        all: bool,
        /// For an integration whose credentials workers generate: run the
        /// probes here, with this machine's own AWS identity (the one `deputy
        /// exec` assumes the role with), and record the outcome in the broker.
        #[arg(long, requires = "integration", conflicts_with_all = ["all", "stack"])]
        as_worker: bool,
    },
    /// Print the role of an integration as a CloudFormation template, a
    /// Terraform configuration or JSON: the trust policy for its attachments
    /// in its trust scope, the session duration it needs, and optionally
    /// managed policies and a Terraform state bucket and lock table.
    RoleTemplate(role_template::RoleTemplateArgs),
    /// Print the trust policy of an integration's role over every
    /// attachment, with its length against the broker's limit.
    TrustPolicy {
        #[command(flatten)]
        broker: BrokerArgs,
        /// The integration's id or name.
        #[arg(long)]
        integration: String,
    },
    /// Exit 0 if a broker is ready (its /readyz), else 1: for container
    /// health checks on images without curl.
    Healthcheck(healthcheck::HealthcheckArgs),
    /// Print the broker API's OpenAPI document (the one `deputy serve`
    /// answers at /v1/openapi.json).
    Openapi,
    /// Print short-lived AWS credentials as `credential_process` JSON, for
    /// an AWS profile: `credential_process = deputy credential-process ...`.
    CredentialProcess {
        #[command(flatten)]
        run: run_credentials::RunArgs,
    },
}

/// How to reach the broker, for every command that talks to it.
#[derive(Debug, Clone, Args)]
pub struct BrokerArgs {
    /// Base URL of the broker.
    #[arg(long, env = "DEPUTY_ENDPOINT", default_value = "http://127.0.0.1:8420")]
    pub endpoint: reqwest::Url,

    /// API key (admin for token commands). Where the key comes from, first
    /// found wins: this flag, then --token-file, then the DEPUTY_TOKEN_FILE
    /// variable, then DEPUTY_TOKEN. Prefer a file: a flag is visible to
    /// other users in the process list, and a variable to every process
    /// that can read this one's environment.
    #[arg(long)]
    pub token: Option<String>,

    /// Read the API key from this file (its first line), for example a CI
    /// secret mounted as a file. Also read from DEPUTY_TOKEN_FILE.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,

    /// Also trust these CA certificates (PEM) for the broker's HTTPS
    /// certificate, for a broker behind a private CA.
    #[arg(long, env = "DEPUTY_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,

    /// Allow an http:// endpoint on another host. Plain HTTP is refused
    /// except to this machine: keys, ID tokens and AWS credentials would
    /// cross the network in clear. It never turns off certificate checks.
    #[arg(long, env = "DEPUTY_INSECURE")]
    pub insecure: bool,
}

impl BrokerArgs {
    pub fn client(&self) -> anyhow::Result<Client> {
        self.client_with(self.api_key()?)
    }

    /// The API key, from the first place that holds one (the rule is in
    /// [`crate::model::api_key`]): `--token`, `--token-file`,
    /// `DEPUTY_TOKEN_FILE`, `DEPUTY_TOKEN`.
    fn api_key(&self) -> anyhow::Result<String> {
        let checked = |key: String, source: &str| {
            api_key::check(&key, source).map_err(|e| anyhow::anyhow!(e.0))?;
            Ok(key)
        };
        if let Some(token) = &self.token {
            return checked(token.clone(), "--token");
        }
        let file = self
            .token_file
            .clone()
            .or_else(|| std::env::var_os(api_key::FILE_ENV).map(Into::into));
        if let Some(path) = file {
            return crate::client::read_key_file(&path).map_err(|e| anyhow::anyhow!(e));
        }
        match environment_token() {
            Some(token) => checked(token, api_key::ENV),
            None => anyhow::bail!(
                "no API key: set {} (or --token-file) or {}, or use the CI job's OIDC ID token \
                 with --id-token",
                api_key::FILE_ENV,
                api_key::ENV
            ),
        }
    }

    /// A client presenting `token` (an OIDC ID token) instead of a key.
    pub fn client_with(&self, token: String) -> anyhow::Result<Client> {
        let transport = Transport::new(self.ca_file.as_deref(), self.insecure)
            .map_err(|e| anyhow::anyhow!("--ca-file: {e}"))?;
        Client::new(
            self.endpoint.clone(),
            token,
            Duration::from_secs(30),
            &transport,
        )
        .map_err(|e| anyhow::anyhow!("--endpoint: {e}"))
    }
}

/// `DEPUTY_TOKEN`, kept in memory by [`Cli::take_secrets_from_environment`]
/// once it is scrubbed from the environment.
static ENVIRONMENT_TOKEN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

fn environment_token() -> Option<String> {
    ENVIRONMENT_TOKEN
        .get_or_init(|| std::env::var(api_key::ENV).ok())
        .clone()
}

impl Cli {
    /// Moves the secrets this process received in its environment
    /// (`DEPUTY_TOKEN`, an ID token source's variables) into memory and
    /// scrubs them from the environment, so neither `/proc/<pid>/environ`
    /// nor a command run by `deputy exec` can read them.
    ///
    /// # Safety
    /// Changes the process environment: call only while no other thread
    /// runs (before the async runtime starts).
    pub unsafe fn take_secrets_from_environment(&mut self) {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            let token = take_secret_from_environment(api_key::ENV);
            let _ = ENVIRONMENT_TOKEN.set(token);
            if let Command::Exec { run, .. } | Command::CredentialProcess { run } =
                &mut self.command
                && let Some(source) = &mut run.id_token
            {
                source.take_from_environment();
            }
        }
    }
}

/// Overwrites the path given to `--token-file` where the kernel placed this
/// process's arguments. `/proc/<pid>/cmdline` shows them to every process
/// of the machine for as long as this one runs (a `deputy exec` runs for
/// the whole job), and the path leads to the key. clap has parsed the
/// arguments already; what follows a `--` (the command `deputy exec`
/// runs) is left as it is.
///
/// # Safety
/// Writes to the memory the arguments live in, which `std::env::args`
/// reads: call only while no other thread runs.
pub unsafe fn hide_token_file_path() {
    let Some((start, end)) = argument_area() else {
        return;
    };
    // SAFETY: [start, end) is this process's argument area as the kernel
    // reports it (mapped, writable: the initial stack); no other thread
    // reads it (this function's contract).
    let area = unsafe { std::slice::from_raw_parts_mut(start as *mut u8, end - start) };
    hide_flag_value(area, b"--token-file");
}

/// Where this process's arguments are: `arg_start` and `arg_end` of
/// `/proc/self/stat` (fields 48 and 49, counted after the parenthesised
/// command name, which may hold spaces).
fn argument_area() -> Option<(usize, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // The first field after the name is field 3.
    let start: usize = fields.get(48 - 3)?.parse().ok()?;
    let end: usize = fields.get(49 - 3)?.parse().ok()?;
    (start < end).then_some((start, end))
}

/// In `area` (NUL-separated arguments), replaces with `*` the value of
/// `flag`, given as the next argument or after `=`, up to a `--`.
fn hide_flag_value(area: &mut [u8], flag: &[u8]) {
    let mut hide_next = false;
    let mut at = 0;
    while at < area.len() {
        let len = area[at..]
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(area.len() - at);
        let arg = &mut area[at..at + len];
        if hide_next {
            arg.fill(b'*');
            hide_next = false;
        } else if arg == b"--" {
            return;
        } else if arg == flag {
            hide_next = true;
        } else if arg.starts_with(flag) && arg.get(flag.len()) == Some(&b'=') {
            arg[flag.len() + 1..].fill(b'*');
        }
        at += len + 1;
    }
}

/// Reads `name` from the environment, overwrites its value where the
/// kernel placed it and removes it. Removing alone is not enough:
/// `/proc/<pid>/environ` shows the environment block as it was at exec,
/// which `unsetenv` leaves in place.
///
/// # Safety
/// Changes the process environment: call only while no other thread runs.
unsafe fn take_secret_from_environment(name: &str) -> Option<String> {
    let value = std::env::var(name).ok();
    let c_name = std::ffi::CString::new(name).ok()?;
    // SAFETY: no other thread reads or changes the environment (this
    // function's contract); getenv's pointer is to the value's bytes,
    // NUL-terminated, in this process's writable memory.
    unsafe {
        let at = nix::libc::getenv(c_name.as_ptr());
        if !at.is_null() {
            std::ptr::write_bytes(at, 0, nix::libc::strlen(at));
        }
        std::env::remove_var(name);
    }
    value
}

/// Runs a command; the result is the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve(config) => crate::broker::server::run(config).await.map(|()| 0),
        Command::Migrate(args) => {
            crate::broker::maintenance::migrate(&args.store.url, args.check).await
        }
        Command::Backup(args) => crate::broker::maintenance::backup(&args.store.url, &args.to)
            .await
            .map(|()| 0),
        Command::RecoverAdminKey(args) => crate::broker::maintenance::recover_admin_key(
            &args.store.url,
            &args.key_file,
            args.expires_in,
        )
        .await
        .map(|()| 0),
        Command::Space(cmd) => space::run(cmd).await.map(|()| 0),
        Command::Stack(cmd) => stack::run(cmd).await.map(|()| 0),
        Command::Integration(cmd) => integration::run(cmd).await.map(|()| 0),
        Command::Attachment(cmd) => attachment::run(cmd).await.map(|()| 0),
        Command::Key(cmd) => token::run(cmd).await.map(|()| 0),
        Command::Audit(args) => audit::run(args).await.map(|()| 0),
        Command::RunnerTrust(cmd) => runner_trust::run(cmd).await.map(|()| 0),
        Command::Exec { run, exec, command } => exec::run(run, exec, command).await,
        Command::Verify {
            broker,
            integration: given,
            stack,
            all,
            as_worker,
        } => {
            let client = broker.client()?;
            if all {
                return verify::all(&client).await;
            }
            let given = given.expect("clap requires --integration without --all");
            verify::named(&client, &given, stack.as_deref(), as_worker).await
        }
        Command::RoleTemplate(args) => role_template::role_template(args).await.map(|()| 0),
        Command::TrustPolicy {
            broker,
            integration,
        } => role_template::trust_policy(&broker, &integration)
            .await
            .map(|()| 0),
        Command::Healthcheck(args) => healthcheck::run(args).await,
        Command::Openapi => {
            print!("{}", crate::broker::http::document());
            Ok(0)
        }
        Command::CredentialProcess { run } => {
            run_credentials::credential_process(run).await.map(|()| 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::hide_flag_value;

    #[test]
    fn the_token_file_path_is_hidden_in_the_argument_area() {
        let mut area =
            b"deputy\0exec\0--token-file\0/run/key\0--token-file=/k2\0--\0cat\0--token-file\0/x\0"
                .to_vec();
        hide_flag_value(&mut area, b"--token-file");
        assert_eq!(
            area,
            b"deputy\0exec\0--token-file\0********\0--token-file=***\0--\0cat\0--token-file\0/x\0"
        );
    }
}

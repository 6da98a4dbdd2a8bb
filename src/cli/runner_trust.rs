//! `deputy runner-trust create|list|show|update|delete`: which OIDC ID
//! tokens (a CI job's own identity) get credentials for which stack and
//! phases, so pipelines need no stored runner key. Like the other object
//! commands, they print a table (the default) or, with `--output json`,
//! the API's objects.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};

use super::BrokerArgs;
use super::output::{self, OutputArgs, Table};
use crate::model::Phase;
use crate::wire::{RunnerTrust, RunnerTrustInput};

#[derive(Debug, Subcommand)]
pub enum RunnerTrustCommand {
    /// Create a runner trust and print it.
    Create {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// List runner trusts.
    List {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one runner trust.
    Show {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The runner trust's id.
        id: String,
    },
    /// Replace every field of a runner trust and print it.
    Update {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The runner trust's id.
        id: String,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Delete a runner trust: its tokens get nothing from then on.
    Delete {
        #[command(flatten)]
        broker: BrokerArgs,
        id: String,
    },
}

/// A trust's fields, as flags.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The stack whose runs the tokens are.
    #[arg(long)]
    stack: String,
    /// The issuer, exactly as tokens carry it in `iss`
    /// (https://token.actions.githubusercontent.com for GitHub Actions,
    /// https://gitlab.com for GitLab.com).
    #[arg(long)]
    issuer: String,
    /// The audience the tokens carry in `aud` (what the job requests its
    /// token for; `deputy exec --id-token` asks for `deputy`).
    #[arg(long, default_value = "deputy")]
    audience: String,
    /// Pattern for the token's subject; `*` stands for any run of
    /// characters. E.g. repo:acme/network:ref:refs/heads/main.
    #[arg(long)]
    subject: String,
    /// Another claim that must match, as NAME=PATTERN (repeatable), e.g.
    /// event_name=push or ref_protected=true.
    #[arg(long = "claim", value_name = "NAME=PATTERN", value_parser = parse_claim)]
    claims: Vec<(String, String)>,
    /// A phase the tokens may get credentials for (repeatable, required):
    /// `read` for plan jobs, `write` for apply jobs.
    #[arg(long = "phase", required = true, value_parser = parse_phase)]
    phases: Vec<Phase>,
    /// Free text shown in listings.
    #[arg(long, default_value = "")]
    description: String,
    /// Accept each token once: its `jti` is kept until it expires and a
    /// second use, on any replica, is refused, so a leaked token is worth
    /// nothing once its job has used it. Needs a token source that mints
    /// a fresh token per request (`--id-token github-actions`), not a
    /// token read from a variable or file.
    #[arg(long)]
    single_use_tokens: bool,
}

impl TrustArgs {
    fn input(self) -> RunnerTrustInput {
        RunnerTrustInput {
            stack_id: self.stack,
            issuer: self.issuer,
            audience: self.audience,
            subject: self.subject,
            claims: self.claims.into_iter().collect::<BTreeMap<_, _>>(),
            phases: self.phases,
            description: self.description,
            single_use_tokens: self.single_use_tokens,
        }
    }
}

fn parse_claim(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not NAME=PATTERN, e.g. event_name=push"))
}

fn parse_phase(s: &str) -> Result<Phase, String> {
    s.parse().map_err(|e: crate::model::Invalid| e.0)
}

fn phases(t: &RunnerTrust) -> String {
    t.phases
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Every field of the API's object, as `FIELD  value` lines.
fn fields(t: &RunnerTrust) -> Vec<(&'static str, String)> {
    vec![
        ("id", t.id.clone()),
        ("stack_id", t.stack_id.to_string()),
        ("issuer", t.issuer.clone()),
        ("audience", t.audience.clone()),
        ("subject", t.subject.clone()),
        ("claims", output::labels(&t.claims)),
        ("phases", phases(t)),
        ("single_use_tokens", t.single_use_tokens.to_string()),
        ("description", output::or_dash(Some(&t.description))),
        ("created_at", t.created_at.clone()),
        ("updated_at", t.updated_at.clone()),
    ]
}

pub async fn run(cmd: RunnerTrustCommand) -> anyhow::Result<()> {
    match cmd {
        RunnerTrustCommand::Create {
            broker,
            output,
            trust,
        } => {
            let created = broker.client()?.create_runner_trust(&trust.input()).await?;
            eprintln!(
                "created runner trust {} for stack {}",
                created.id, created.stack_id
            );
            output::one(output.output, &created, fields)
        }
        RunnerTrustCommand::List { broker, output } => {
            let trusts = broker.client()?.runner_trusts().await?;
            output::list(output.output, &trusts, |trusts| {
                let mut t = Table::new(&[
                    "ID",
                    "STACK",
                    "PHASES",
                    "ISSUER",
                    "AUDIENCE",
                    "SUBJECT",
                    "CLAIMS",
                    "SINGLE USE",
                    "DESCRIPTION",
                ]);
                for trust in trusts {
                    t.row(vec![
                        trust.id.clone(),
                        trust.stack_id.to_string(),
                        phases(trust),
                        trust.issuer.clone(),
                        trust.audience.clone(),
                        trust.subject.clone(),
                        output::labels(&trust.claims),
                        trust.single_use_tokens.to_string(),
                        output::or_dash(Some(&trust.description)),
                    ]);
                }
                t
            })
        }
        RunnerTrustCommand::Show { broker, output, id } => {
            let found = broker.client()?.runner_trust(&id).await?;
            output::one(output.output, &found, fields)
        }
        RunnerTrustCommand::Update {
            broker,
            output,
            id,
            trust,
        } => {
            let updated = broker
                .client()?
                .replace_runner_trust(&id, &trust.input())
                .await?;
            output::one(output.output, &updated, fields)
        }
        RunnerTrustCommand::Delete { broker, id } => {
            broker.client()?.delete_runner_trust(&id).await?;
            eprintln!("deleted runner trust {id}");
            Ok(())
        }
    }
}

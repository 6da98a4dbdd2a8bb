//! `deputy key create|list|show|revoke` (`deputy token ...` is the same
//! command): API keys, never their secrets after creation.

use clap::{Subcommand, ValueEnum};

use super::BrokerArgs;
use super::output::{self, OutputArgs, Table};
use crate::model::Phase;
use crate::wire::{ApiKey, ApiKeyInput, KeyRole};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API key and print it. The secret is shown only this once.
    Create {
        #[command(flatten)]
        broker: BrokerArgs,
        /// runner: gets credentials for one stack's runs, nothing else.
        /// admin, write, read: manage the registry in a space and below
        /// (admin: everything, including child spaces and keys up to its
        /// own role; write: stacks, their attachments, runner keys and
        /// runner trusts; read: sees, changes nothing).
        #[arg(long, value_enum, default_value = "runner")]
        role: Role,
        /// The space an admin, write or read key acts in (and below);
        /// defaults to the creating key's own.
        #[arg(long)]
        space: Option<String>,
        /// The stack a runner key acts for.
        #[arg(long, required_if_eq("role", "runner"))]
        stack: Option<String>,
        /// Phases a runner key may get credentials for (repeatable, required
        /// for runner keys): `read` for plan jobs, `write` for apply jobs.
        #[arg(long = "phase", value_parser = parse_phase)]
        phases: Vec<Phase>,
        /// Free text shown in listings, e.g. who holds the key.
        #[arg(long, default_value = "")]
        description: String,
        /// Lifetime in seconds; no expiry when left out.
        #[arg(long)]
        expires_in: Option<i64>,
    },
    /// List API keys (never their secrets).
    List {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one API key by id (never its secret).
    Show {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The key's id (the part after `dpk_`, before the next `_`).
        id: String,
    },
    /// Revoke an API key by id (the part after `dpk_`, before the next `_`).
    #[command(visible_alias = "delete")]
    Revoke {
        #[command(flatten)]
        broker: BrokerArgs,
        id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Role {
    Admin,
    Write,
    Read,
    Runner,
}

fn parse_phase(s: &str) -> Result<Phase, String> {
    s.parse().map_err(|e: crate::model::Invalid| e.0)
}

pub async fn run(cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create {
            broker,
            role,
            space,
            stack,
            phases,
            description,
            expires_in,
        } => {
            // Checked here, not by clap: `--role` defaults to runner, and
            // clap's conditions see only values given on the command line.
            if matches!(role, Role::Runner) && phases.is_empty() {
                anyhow::bail!(
                    "choose the phases this runner key may get credentials for: --phase read \
                     (plan jobs), --phase write (apply jobs), or both"
                );
            }
            let input = ApiKeyInput {
                role: match role {
                    Role::Admin => KeyRole::Admin,
                    Role::Write => KeyRole::Write,
                    Role::Read => KeyRole::Read,
                    Role::Runner => KeyRole::Runner,
                },
                space_id: space,
                stack_id: stack,
                phases: (!phases.is_empty()).then_some(phases),
                description,
                expires_in_seconds: expires_in,
            };
            let created = broker.client()?.create_key(&input).await?;
            eprintln!(
                "created {} key {}; the secret below is shown only once:",
                created.key.role.as_str(),
                created.key.id
            );
            println!("{}", created.token);
        }
        TokenCommand::List { broker, output } => {
            let keys = broker.client()?.keys().await?;
            output::list(output.output, &keys, |keys| {
                let mut t = Table::new(&[
                    "ID",
                    "ROLE",
                    "SPACE",
                    "STACK",
                    "PHASES",
                    "STATE",
                    "LAST USED",
                    "DESCRIPTION",
                ]);
                for k in keys {
                    t.row(row(k));
                }
                t
            })?;
        }
        TokenCommand::Show { broker, output, id } => {
            let keys = broker.client()?.keys().await?;
            let key = keys.iter().find(|k| k.id == id).ok_or_else(|| {
                anyhow::anyhow!("no API key with id {id:?} (see `deputy key list`)")
            })?;
            output::one(output.output, key, |k| {
                let cells = row(k);
                [
                    "id",
                    "role",
                    "stack",
                    "phases",
                    "state",
                    "last_used_at",
                    "description",
                ]
                .into_iter()
                .zip(cells)
                .collect()
            })?;
        }
        TokenCommand::Revoke { broker, id } => {
            let key = broker.client()?.revoke_key(&id).await?;
            println!("revoked key {}", key.id);
        }
    }
    Ok(())
}

/// A key's cells, in the order of the list's columns.
fn row(k: &ApiKey) -> Vec<String> {
    let phases: Vec<&str> = k.phases.iter().map(|p| p.as_str()).collect();
    let state = match (&k.revoked_at, &k.expires_at) {
        (Some(at), _) => format!("revoked {at}"),
        (None, Some(exp)) => format!("expires {exp}"),
        (None, None) => "active".into(),
    };
    vec![
        k.id.clone(),
        k.role.as_str().into(),
        output::or_dash(k.space_id.as_ref().map(|s| s.as_str())),
        output::or_dash(k.stack_id.as_ref().map(|s| s.as_str())),
        output::or_dash(Some(&phases.join(","))),
        state,
        output::or_dash(k.last_used_at.as_deref()),
        output::or_dash(Some(&k.description)),
    ]
}

//! `deputy token create|list|revoke`.

use clap::{Subcommand, ValueEnum};

use super::BrokerArgs;
use crate::api::{ApiKeyInput, KeyRole};
use crate::model::Phase;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API key and print it. The secret is shown only this once.
    Create {
        #[command(flatten)]
        broker: BrokerArgs,
        /// admin: manages the registry. runner: gets credentials for one
        /// stack's runs, nothing else.
        #[arg(long, value_enum, default_value = "runner")]
        role: Role,
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
    },
    /// Revoke an API key by id (the part after `dpk_`, before the next `_`).
    Revoke {
        #[command(flatten)]
        broker: BrokerArgs,
        id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Role {
    Admin,
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
                    Role::Runner => KeyRole::Runner,
                },
                stack_id: stack,
                phases: (!phases.is_empty()).then_some(phases),
                description,
                expires_in_seconds: expires_in,
            };
            let created = broker.client()?.create_key(&input).await?;
            eprintln!(
                "created {} key {}; the secret below is shown only once:",
                role_name(created.key.role),
                created.key.id
            );
            println!("{}", created.token);
        }
        TokenCommand::List { broker } => {
            let keys = broker.client()?.keys().await?;
            println!(
                "{:<18} {:<7} {:<24} {:<12} {:<28} DESCRIPTION",
                "ID", "ROLE", "STACK", "PHASES", "STATE"
            );
            for k in keys {
                let phases: Vec<&str> = k.phases.iter().map(|p| p.as_str()).collect();
                let state = match (&k.revoked_at, &k.expires_at) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(exp)) => format!("expires {exp}"),
                    (None, None) => "active".into(),
                };
                println!(
                    "{:<18} {:<7} {:<24} {:<12} {:<28} {}",
                    k.id,
                    role_name(k.role),
                    k.stack_id.as_ref().map_or("-", |s| s.as_str()),
                    if phases.is_empty() {
                        "-".into()
                    } else {
                        phases.join(",")
                    },
                    state,
                    k.description
                );
            }
        }
        TokenCommand::Revoke { broker, id } => {
            let key = broker.client()?.revoke_key(&id).await?;
            println!("revoked key {}", key.id);
        }
    }
    Ok(())
}

fn role_name(role: KeyRole) -> &'static str {
    match role {
        KeyRole::Admin => "admin",
        KeyRole::Runner => "runner",
    }
}

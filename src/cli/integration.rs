//! `deputy integration list|show|create|update|delete`: AWS integrations
//! outside Terraform, with their ids (the import id of
//! `deputy_aws_integration`). `update` changes only the fields given; a
//! change that affects what the role must trust is verified first, as
//! through the API.
//!
//! Every command that names an integration (here, `attachment`, `verify`,
//! `role-template`, `trust-policy`, `audit`) takes its id or its unique
//! name, as the Terraform data sources do: see [`resolve`].

use std::collections::BTreeMap;

use clap::{Args, Subcommand};

use super::BrokerArgs;
use super::output::{self, OutputArgs, Table};
use crate::client::{Client, ClientResult};
use crate::wire::{Integration, IntegrationInput};

/// The integration `id_or_name` names, or `None`: tried as an id first,
/// then (on a 404) as a name, which is unique.
pub async fn find(client: &Client, id_or_name: &str) -> ClientResult<Option<Integration>> {
    match client.integration(id_or_name).await {
        Ok(found) => return Ok(Some(found)),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    match client.integration_by_name(id_or_name).await {
        Ok(found) => Ok(Some(found)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The integration `id_or_name` names (its id or its unique name), or an
/// error that says neither exists: the one way every command finds an
/// integration it is given.
pub async fn resolve(client: &Client, id_or_name: &str) -> anyhow::Result<Integration> {
    match find(client, id_or_name).await? {
        Some(found) => Ok(found),
        None => anyhow::bail!(
            "no integration with id or name {} (see `deputy integration list`)",
            output::visible(id_or_name)
        ),
    }
}

/// The id of the integration `id_or_name` names; see [`resolve`].
pub async fn resolve_id(client: &Client, id_or_name: &str) -> anyhow::Result<String> {
    Ok(resolve(client, id_or_name).await?.id.to_string())
}

#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// List integrations, optionally only those in a space or with labels.
    List {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// Only integrations in this space.
        #[arg(long)]
        space: Option<String>,
        /// Only integrations with this label, as KEY=VALUE (repeatable: all
        /// must match).
        #[arg(long = "label", value_name = "KEY=VALUE", value_parser = output::parse_label)]
        labels: Vec<(String, String)>,
    },
    /// Show one integration (by id or name), its last verification and
    /// its attachments (in JSON, as `attachments`).
    Show {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The integration's id or name.
        id: String,
        /// Look the integration up by name only (without it, an id is
        /// tried first, then a name).
        #[arg(long)]
        name: bool,
    },
    /// Create an integration.
    Create {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// Unique name.
        #[arg(long)]
        name: String,
        /// ARN of the IAM role deputy assumes.
        #[arg(long)]
        role_arn: String,
        #[command(flatten)]
        fields: IntegrationFields,
    },
    /// Change the fields given; the rest stay.
    Update {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The integration's id or name.
        id: String,
        /// New unique name.
        #[arg(long)]
        name: Option<String>,
        /// New role ARN (verified for every attached stack first).
        #[arg(long)]
        role_arn: Option<String>,
        #[command(flatten)]
        fields: IntegrationFields,
    },
    /// Delete an integration (refused while stacks are attached to it).
    Delete {
        #[command(flatten)]
        broker: BrokerArgs,
        /// The integration's id or name.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct IntegrationFields {
    /// AWS region for STS calls (defaults to us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// Lifetime of vended credentials, 900 to 43200 seconds (defaults to
    /// 3600).
    #[arg(long)]
    duration_seconds: Option<i64>,
    /// Workers assume the role with their own identity (worker mode).
    #[arg(long)]
    generate_credentials_in_worker: Option<bool>,
    /// Custom External ID (worker mode only).
    #[arg(long)]
    external_id: Option<String>,
    /// Pass session tags when assuming the role.
    #[arg(long)]
    tag_session: Option<bool>,
    /// Pass the run id as SourceIdentity.
    #[arg(long)]
    set_source_identity: Option<bool>,
    /// `stack` (exact External IDs) or `integration` (one pattern per
    /// phase).
    #[arg(long)]
    trust_scope: Option<String>,
    /// A session policy ARN for plan sessions (repeatable; on update,
    /// replaces the list).
    #[arg(long = "read-session-policy-arn", value_name = "ARN")]
    read_session_policy_arns: Vec<String>,
    /// A session policy ARN for apply sessions (repeatable; on update,
    /// replaces the list).
    #[arg(long = "write-session-policy-arn", value_name = "ARN")]
    write_session_policy_arns: Vec<String>,
    /// A label as KEY=VALUE (repeatable; on update, replaces all labels).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = output::parse_label)]
    labels: Vec<(String, String)>,
    /// Space (defaults to `root`).
    #[arg(long)]
    space: Option<String>,
    /// Free-form description.
    #[arg(long)]
    description: Option<String>,
}

impl IntegrationFields {
    /// `base` with the fields given applied.
    fn apply(self, mut base: IntegrationInput) -> IntegrationInput {
        if self.region.is_some() {
            base.region = self.region;
        }
        if self.duration_seconds.is_some() {
            base.duration_seconds = self.duration_seconds;
        }
        if let Some(on) = self.generate_credentials_in_worker {
            base.generate_credentials_in_worker = on;
        }
        if self.external_id.is_some() {
            base.external_id = self.external_id;
        }
        if let Some(on) = self.tag_session {
            base.tag_session = on;
        }
        if let Some(on) = self.set_source_identity {
            base.set_source_identity = on;
        }
        if self.trust_scope.is_some() {
            base.trust_scope = self.trust_scope;
        }
        if !self.read_session_policy_arns.is_empty() {
            base.read_session_policy_arns = self.read_session_policy_arns;
        }
        if !self.write_session_policy_arns.is_empty() {
            base.write_session_policy_arns = self.write_session_policy_arns;
        }
        if !self.labels.is_empty() {
            base.labels = self.labels.into_iter().collect::<BTreeMap<_, _>>();
        }
        if self.space.is_some() {
            base.space = self.space;
        }
        if let Some(description) = self.description {
            base.description = description;
        }
        base
    }
}

/// The input that would recreate `i` as it is.
fn as_input(i: Integration) -> IntegrationInput {
    IntegrationInput {
        name: i.name,
        role_arn: i.role_arn.to_string(),
        region: Some(i.region.to_string()),
        duration_seconds: Some(i.duration_seconds),
        generate_credentials_in_worker: i.generate_credentials_in_worker,
        external_id: i.external_id.map(String::from),
        tag_session: i.tag_session,
        set_source_identity: i.set_source_identity,
        trust_scope: Some(i.trust_scope.as_str().to_string()),
        read_session_policy_arns: i.read_session_policy_arns,
        write_session_policy_arns: i.write_session_policy_arns,
        labels: i.labels,
        space: Some(i.space),
        description: i.description,
    }
}

fn mode(i: &Integration) -> &'static str {
    if i.generate_credentials_in_worker {
        "worker"
    } else {
        "broker"
    }
}

fn fields(i: &Integration) -> Vec<(&'static str, String)> {
    let list = |items: &[String]| {
        if items.is_empty() {
            "-".to_string()
        } else {
            items.join(",")
        }
    };
    vec![
        ("id", i.id.to_string()),
        ("name", i.name.clone()),
        ("role_arn", i.role_arn.to_string()),
        ("region", i.region.to_string()),
        ("mode", mode(i).into()),
        ("trust_scope", i.trust_scope.as_str().into()),
        ("duration_seconds", i.duration_seconds.to_string()),
        ("tag_session", i.tag_session.to_string()),
        ("set_source_identity", i.set_source_identity.to_string()),
        (
            "external_id",
            output::or_dash(i.external_id.as_ref().map(|e| e.as_str())),
        ),
        (
            "read_session_policy_arns",
            list(&i.read_session_policy_arns),
        ),
        (
            "write_session_policy_arns",
            list(&i.write_session_policy_arns),
        ),
        ("labels", output::labels(&i.labels)),
        ("space", i.space.clone()),
        ("description", output::or_dash(Some(&i.description))),
        ("verification_state", i.verification_state.as_str().into()),
        (
            "last_verified_at",
            output::or_dash(i.last_verified_at.as_deref()),
        ),
        ("created_at", i.created_at.clone()),
    ]
}

pub async fn run(cmd: IntegrationCommand) -> anyhow::Result<()> {
    match cmd {
        IntegrationCommand::List {
            broker,
            output,
            space,
            labels,
        } => {
            let labels = labels.into_iter().collect::<BTreeMap<_, _>>();
            let found = broker
                .client()?
                .integrations(space.as_deref(), &labels)
                .await?;
            output::list(output.output, &found, |found| {
                let mut t = Table::new(&[
                    "ID", "NAME", "ROLE", "REGION", "MODE", "SCOPE", "STATE", "VERIFIED",
                ]);
                for i in found {
                    t.row(vec![
                        i.id.to_string(),
                        i.name.clone(),
                        i.role_arn.to_string(),
                        i.region.to_string(),
                        mode(i).into(),
                        i.trust_scope.as_str().into(),
                        i.verification_state.as_str().into(),
                        output::or_dash(i.last_verified_at.as_deref()),
                    ]);
                }
                t
            })
        }
        IntegrationCommand::Show {
            broker,
            output,
            id,
            name,
        } => {
            let client = broker.client()?;
            let found = if name {
                client.integration_by_name(&id).await?
            } else {
                resolve(&client, &id).await?
            };
            let attachments = client.attachments_of_integration(found.id.as_str()).await?;
            output::one_with(output.output, &found, "attachments", &attachments, |i| {
                let mut f = fields(i);
                for a in &attachments {
                    let phases = [("read", a.read), ("write", a.write)]
                        .into_iter()
                        .filter(|(_, on)| *on)
                        .map(|(p, _)| p)
                        .collect::<Vec<_>>()
                        .join(",");
                    f.push(("attached", format!("{} ({phases})", a.stack_id)));
                }
                f
            })
        }
        IntegrationCommand::Create {
            broker,
            output,
            name,
            role_arn,
            fields: given,
        } => {
            let input = given.apply(IntegrationInput {
                name,
                role_arn,
                ..Default::default()
            });
            let created = broker.client()?.create_integration(&input).await?;
            eprintln!("created integration {} ({})", created.id, created.name);
            output::one(output.output, &created, fields)
        }
        IntegrationCommand::Update {
            broker,
            output,
            id,
            name,
            role_arn,
            fields: given,
        } => {
            let client = broker.client()?;
            let current = resolve(&client, &id).await?;
            let id = current.id.to_string();
            let mut base = as_input(current);
            if let Some(name) = name {
                base.name = name;
            }
            if let Some(role_arn) = role_arn {
                base.role_arn = role_arn;
            }
            let updated = client.replace_integration(&id, &given.apply(base)).await?;
            output::one(output.output, &updated, fields)
        }
        IntegrationCommand::Delete { broker, id } => {
            let client = broker.client()?;
            let found = resolve(&client, &id).await?;
            client.delete_integration(found.id.as_str()).await?;
            eprintln!(
                "deleted integration {} ({})",
                found.id,
                output::visible(&found.name)
            );
            Ok(())
        }
    }
}

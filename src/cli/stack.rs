//! `deputy stack list|show|create|update|delete`: stacks outside
//! Terraform. `update` changes only the fields given.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};

use super::BrokerArgs;
use super::output::{self, OutputArgs, Table};
use crate::wire::{Stack, StackInput};

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// List stacks, optionally only those in a space or with labels (the
    /// same filters as `integration list`).
    List {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// Only stacks in this space.
        #[arg(long)]
        space: Option<String>,
        /// Only stacks with this label, as KEY=VALUE (repeatable: all must
        /// match).
        #[arg(long = "label", value_name = "KEY=VALUE", value_parser = output::parse_label)]
        labels: Vec<(String, String)>,
    },
    /// Show one stack and the integrations attached to it (in JSON, as
    /// `attachments`).
    Show {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The stack's id.
        id: String,
    },
    /// Register a stack.
    Create {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The stack's id: 1 to 63 lowercase letters, digits and `-`. It is
        /// part of every External ID issued for the stack and never changes.
        id: String,
        #[command(flatten)]
        fields: StackFields,
    },
    /// Change a stack's name, space, labels or description (the fields
    /// given; the rest stay).
    Update {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The stack's id.
        id: String,
        #[command(flatten)]
        fields: StackFields,
    },
    /// Delete a stack (refused while integrations are attached to it).
    Delete {
        #[command(flatten)]
        broker: BrokerArgs,
        /// The stack's id.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct StackFields {
    /// Display name (defaults to the id).
    #[arg(long)]
    name: Option<String>,
    /// The id of the space it belongs to (on create, defaults to the
    /// key's own space; `deputy space list` shows them).
    #[arg(long)]
    space: Option<String>,
    /// A label as KEY=VALUE (repeatable); on update, replaces all labels.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = output::parse_label)]
    labels: Vec<(String, String)>,
    /// Free-form description.
    #[arg(long)]
    description: Option<String>,
}

impl StackFields {
    /// `base` with the fields given applied.
    fn apply(self, mut base: StackInput) -> StackInput {
        if self.name.is_some() {
            base.name = self.name;
        }
        if self.space.is_some() {
            base.space = self.space;
        }
        if !self.labels.is_empty() {
            base.labels = self.labels.into_iter().collect::<BTreeMap<_, _>>();
        }
        if let Some(description) = self.description {
            base.description = description;
        }
        base
    }
}

fn fields(s: &Stack) -> Vec<(&'static str, String)> {
    vec![
        ("id", s.id.to_string()),
        ("name", s.name.clone()),
        ("space", s.space.clone()),
        ("labels", output::labels(&s.labels)),
        ("description", output::or_dash(Some(&s.description))),
        ("created_at", s.created_at.clone()),
        ("updated_at", s.updated_at.clone()),
    ]
}

/// Whether `s` is in `space` (when given) and has every label of `labels`.
fn matches(s: &Stack, space: Option<&str>, labels: &BTreeMap<String, String>) -> bool {
    space.is_none_or(|space| s.space == space)
        && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v))
}

pub async fn run(cmd: StackCommand) -> anyhow::Result<()> {
    match cmd {
        StackCommand::List {
            broker,
            output,
            space,
            labels,
        } => {
            // `GET /v1/stacks` has no filters: the client follows every
            // page, and the filters of `integration list` apply here.
            let labels = labels.into_iter().collect::<BTreeMap<_, _>>();
            let stacks = broker
                .client()?
                .stacks()
                .await?
                .into_iter()
                .filter(|s| matches(s, space.as_deref(), &labels))
                .collect::<Vec<_>>();
            output::list(output.output, &stacks, |stacks| {
                let mut t = Table::new(&["ID", "NAME", "SPACE", "LABELS"]);
                for s in stacks {
                    t.row(vec![
                        s.id.to_string(),
                        s.name.clone(),
                        s.space.clone(),
                        output::labels(&s.labels),
                    ]);
                }
                t
            })
        }
        StackCommand::Show { broker, output, id } => {
            let client = broker.client()?;
            let stack = client.stack(&id).await?;
            let attachments = client.attachments_of_stack(&id).await?;
            output::one_with(output.output, &stack, "attachments", &attachments, |s| {
                let mut f = fields(s);
                for a in &attachments {
                    let phases = [("read", a.read), ("write", a.write)]
                        .into_iter()
                        .filter(|(_, on)| *on)
                        .map(|(p, _)| p)
                        .collect::<Vec<_>>()
                        .join(",");
                    f.push(("attached", format!("{} ({phases})", a.integration_id)));
                }
                f
            })
        }
        StackCommand::Create {
            broker,
            output,
            id,
            fields: given,
        } => {
            let created = broker
                .client()?
                .create_stack(&given.apply(StackInput::with_id(id)))
                .await?;
            eprintln!("created stack {}", created.id);
            output::one(output.output, &created, fields)
        }
        StackCommand::Update {
            broker,
            output,
            id,
            fields: given,
        } => {
            let client = broker.client()?;
            let current = client.stack(&id).await?;
            let base = StackInput {
                id: current.id.to_string(),
                name: Some(current.name),
                space: Some(current.space),
                labels: current.labels,
                description: current.description,
            };
            let updated = client.replace_stack(&id, &given.apply(base)).await?;
            output::one(output.output, &updated, fields)
        }
        StackCommand::Delete { broker, id } => {
            broker.client()?.delete_stack(&id).await?;
            eprintln!("deleted stack {id}");
            Ok(())
        }
    }
}

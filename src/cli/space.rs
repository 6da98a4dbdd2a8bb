//! `deputy space list|show|create|update|delete`: the tree of spaces
//! stacks, integrations and keys belong to. `update` changes only the
//! fields given.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};

use super::BrokerArgs;
use super::output::{self, OutputArgs, Table};
use crate::wire::{Space, SpaceInput};

#[derive(Debug, Subcommand)]
pub enum SpaceCommand {
    /// List the spaces of the key's subtree (its space and below).
    List {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one space.
    Show {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The space's id.
        id: String,
    },
    /// Create a space (an admin of the parent creates it).
    Create {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The space's id: 1 to 63 lowercase letters, digits and `-`; it
        /// never changes.
        id: String,
        /// The parent space (defaults to `root`); it never changes.
        #[arg(long)]
        parent: Option<String>,
        #[command(flatten)]
        fields: SpaceFields,
    },
    /// Change a space's name, labels, description or inherit (the fields
    /// given; the rest stay). Only an admin of the parent changes inherit.
    Update {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The space's id.
        id: String,
        #[command(flatten)]
        fields: SpaceFields,
    },
    /// Delete an empty space (no spaces, stacks, integrations or keys in it).
    Delete {
        #[command(flatten)]
        broker: BrokerArgs,
        /// The space's id.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct SpaceFields {
    /// Display name (defaults to the id).
    #[arg(long)]
    name: Option<String>,
    /// Whether stacks here may use the parent's integrations.
    #[arg(long)]
    inherit: Option<bool>,
    /// A label as KEY=VALUE (repeatable); on update, replaces all labels.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = output::parse_label)]
    labels: Vec<(String, String)>,
    /// Free-form description.
    #[arg(long)]
    description: Option<String>,
}

impl SpaceFields {
    /// `base` with the fields given applied.
    fn apply(self, mut base: SpaceInput) -> SpaceInput {
        if self.name.is_some() {
            base.name = self.name;
        }
        if let Some(inherit) = self.inherit {
            base.inherit = inherit;
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

fn fields(s: &Space) -> Vec<(&'static str, String)> {
    vec![
        ("id", s.id.to_string()),
        ("name", s.name.clone()),
        (
            "parent",
            output::or_dash(s.parent_id.as_ref().map(|p| p.as_str())),
        ),
        ("inherit", s.inherit.to_string()),
        ("labels", output::labels(&s.labels)),
        ("description", output::or_dash(Some(&s.description))),
        ("created_at", s.created_at.clone()),
        ("updated_at", s.updated_at.clone()),
    ]
}

pub async fn run(cmd: SpaceCommand) -> anyhow::Result<()> {
    match cmd {
        SpaceCommand::List { broker, output } => {
            let spaces = broker.client()?.spaces().await?;
            output::list(output.output, &spaces, |spaces| {
                let mut t = Table::new(&["ID", "NAME", "PARENT", "INHERIT", "LABELS"]);
                for s in spaces {
                    t.row(vec![
                        s.id.to_string(),
                        s.name.clone(),
                        output::or_dash(s.parent_id.as_ref().map(|p| p.as_str())),
                        s.inherit.to_string(),
                        output::labels(&s.labels),
                    ]);
                }
                t
            })
        }
        SpaceCommand::Show { broker, output, id } => {
            let space = broker.client()?.space(&id).await?;
            output::one(output.output, &space, fields)
        }
        SpaceCommand::Create {
            broker,
            output,
            id,
            parent,
            fields: given,
        } => {
            let input = given.apply(SpaceInput {
                id,
                parent_id: parent,
                ..Default::default()
            });
            let created = broker.client()?.create_space(&input).await?;
            eprintln!("created space {}", created.id);
            output::one(output.output, &created, fields)
        }
        SpaceCommand::Update {
            broker,
            output,
            id,
            fields: given,
        } => {
            let client = broker.client()?;
            let current = client.space(&id).await?;
            let base = SpaceInput {
                id: current.id.to_string(),
                name: Some(current.name),
                parent_id: current.parent_id.map(|p| p.to_string()),
                inherit: current.inherit,
                labels: current.labels,
                description: current.description,
            };
            let updated = client.replace_space(&id, &given.apply(base)).await?;
            eprintln!("updated space {}", updated.id);
            output::one(output.output, &updated, fields)
        }
        SpaceCommand::Delete { broker, id } => {
            broker.client()?.delete_space(&id).await?;
            eprintln!("deleted space {id}");
            Ok(())
        }
    }
}

//! `deputy attachment list|show|create|update|delete`: which stacks use
//! which integration for which phases. An attachment's id is
//! `INTEGRATION_ID/STACK_ID`, also the import id of
//! `deputy_aws_integration_attachment`. Creating one (or adding a phase)
//! verifies the role first, as through the API.

use clap::Subcommand;

use super::BrokerArgs;
use super::output::{self, OutputArgs, Table};
use crate::wire::{Attachment, AttachmentInput, AttachmentUpdate};

#[derive(Debug, Subcommand)]
pub enum AttachmentCommand {
    /// List the attachments of an integration or of a stack.
    List {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The integration whose attachments to list.
        #[arg(long, required_unless_present = "stack", conflicts_with = "stack")]
        integration: Option<String>,
        /// The stack whose attachments to list.
        #[arg(long)]
        stack: Option<String>,
    },
    /// Show one attachment and its External IDs.
    Show {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// INTEGRATION_ID/STACK_ID.
        id: String,
    },
    /// Attach an integration to a stack, for plans (read), applies (write)
    /// or both (the default).
    Create {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The integration's id.
        #[arg(long)]
        integration: String,
        /// The stack's id.
        #[arg(long)]
        stack: String,
        /// Serve the stack's plans.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        read: bool,
        /// Serve the stack's applies.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        write: bool,
    },
    /// Change the phases an attachment serves (the ones given; the other
    /// stays).
    Update {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// INTEGRATION_ID/STACK_ID.
        id: String,
        /// Serve the stack's plans.
        #[arg(long, action = clap::ArgAction::Set)]
        read: Option<bool>,
        /// Serve the stack's applies.
        #[arg(long, action = clap::ArgAction::Set)]
        write: Option<bool>,
    },
    /// Detach: the stack's runs get no credentials through it from then on.
    Delete {
        #[command(flatten)]
        broker: BrokerArgs,
        /// INTEGRATION_ID/STACK_ID.
        id: String,
    },
}

/// `INTEGRATION_ID/STACK_ID` as its two ends.
fn ends(id: &str) -> anyhow::Result<(&str, &str)> {
    id.split_once('/')
        .filter(|(i, s)| !i.is_empty() && !s.is_empty() && !s.contains('/'))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{id:?} is not an attachment id: use INTEGRATION_ID/STACK_ID, for example \
                 01JQ3ZV8T4M5N6P7Q8R9S0T1V2/prod-network"
            )
        })
}

fn phases(a: &Attachment) -> String {
    [("read", a.read), ("write", a.write)]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(p, _)| p)
        .collect::<Vec<_>>()
        .join(",")
}

fn fields(a: &Attachment) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("id", a.id.clone()),
        ("integration_id", a.integration_id.to_string()),
        ("stack_id", a.stack_id.to_string()),
        ("phases", phases(a)),
    ];
    for (phase, id) in &a.external_ids {
        f.push((
            if phase.as_str() == "read" {
                "external_id.read"
            } else {
                "external_id.write"
            },
            id.to_string(),
        ));
    }
    f.push(("created_at", a.created_at.clone()));
    f
}

pub async fn run(cmd: AttachmentCommand) -> anyhow::Result<()> {
    match cmd {
        AttachmentCommand::List {
            broker,
            output,
            integration,
            stack,
        } => {
            let client = broker.client()?;
            let found = match (integration, stack) {
                (Some(i), _) => client.attachments_of_integration(&i).await?,
                (None, Some(s)) => client.attachments_of_stack(&s).await?,
                (None, None) => unreachable!("clap requires --integration or --stack"),
            };
            output::list(output.output, &found, |found| {
                let mut t = Table::new(&["ID", "INTEGRATION", "STACK", "PHASES"]);
                for a in found {
                    t.row(vec![
                        a.id.clone(),
                        a.integration_id.to_string(),
                        a.stack_id.to_string(),
                        phases(a),
                    ]);
                }
                t
            })
        }
        AttachmentCommand::Show { broker, output, id } => {
            let (integration, stack) = ends(&id)?;
            let found = broker.client()?.attachment(integration, stack).await?;
            output::one(output.output, &found, fields)
        }
        AttachmentCommand::Create {
            broker,
            output,
            integration,
            stack,
            read,
            write,
        } => {
            let created = broker
                .client()?
                .attach(
                    &integration,
                    &AttachmentInput {
                        stack_id: stack,
                        read,
                        write,
                    },
                )
                .await?;
            eprintln!("attached {} ({})", created.id, phases(&created));
            output::one(output.output, &created, fields)
        }
        AttachmentCommand::Update {
            broker,
            output,
            id,
            read,
            write,
        } => {
            let (integration, stack) = ends(&id)?;
            let client = broker.client()?;
            let current = client.attachment(integration, stack).await?;
            let update = AttachmentUpdate {
                read: read.unwrap_or(current.read),
                write: write.unwrap_or(current.write),
            };
            let updated = client
                .update_attachment(integration, stack, &update)
                .await?;
            output::one(output.output, &updated, fields)
        }
        AttachmentCommand::Delete { broker, id } => {
            let (integration, stack) = ends(&id)?;
            broker.client()?.detach(integration, stack).await?;
            eprintln!("detached {id}");
            Ok(())
        }
    }
}

//! `deputy attachment list|show|create|update|delete`: which stacks use
//! which integration for which phases. An attachment's id is
//! `INTEGRATION_ID/STACK_ID`, also the import id of
//! `deputy_aws_integration_attachment`. Creating one (or adding a phase)
//! verifies the role first, as through the API. Wherever an integration
//! is named, its name does as well as its id (see `integration::resolve`).

use clap::Subcommand;

use super::BrokerArgs;
use super::integration::resolve_id;
use super::output::{self, OutputArgs, Table};
use crate::client::Client;
use crate::wire::{Attachment, AttachmentInput, AttachmentUpdate};

#[derive(Debug, Subcommand)]
pub enum AttachmentCommand {
    /// List the attachments of an integration or a stack (one of
    /// --integration or --stack).
    #[command(group(
        clap::ArgGroup::new("attachments_of")
            .required(true)
            .multiple(false)
            .args(["integration", "stack"])
    ))]
    List {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The integration (id or name) whose attachments to list; one of
        /// --integration or --stack.
        #[arg(long)]
        integration: Option<String>,
        /// The stack whose attachments to list; one of --integration or
        /// --stack.
        #[arg(long)]
        stack: Option<String>,
    },
    /// Show one attachment and its External IDs.
    Show {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// INTEGRATION_ID/STACK_ID (the integration by id or name).
        id: String,
    },
    /// Attach an integration to a stack, for plans (read), applies (write)
    /// or both (the default).
    Create {
        #[command(flatten)]
        broker: BrokerArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The integration's id or name.
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
        /// INTEGRATION_ID/STACK_ID (the integration by id or name).
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
        /// INTEGRATION_ID/STACK_ID (the integration by id or name).
        id: String,
    },
}

/// `INTEGRATION_ID/STACK_ID` as its two ends, split at the last `/`
/// (stack ids have none; an integration's name may).
fn ends(id: &str) -> anyhow::Result<(&str, &str)> {
    id.rsplit_once('/')
        .filter(|(i, s)| !i.is_empty() && !s.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{id:?} is not an attachment id: use INTEGRATION_ID/STACK_ID, for example \
                 01JQ3ZV8T4M5N6P7Q8R9S0T1V2/prod-network (the integration by id or name)"
            )
        })
}

/// The integration's id and the stack's id of `INTEGRATION/STACK_ID`,
/// the integration given by id or name.
async fn resolve_ends(client: &Client, id: &str) -> anyhow::Result<(String, String)> {
    let (integration, stack) = ends(id)?;
    Ok((resolve_id(client, integration).await?, stack.to_string()))
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
                (Some(i), None) => {
                    let id = resolve_id(&client, &i).await?;
                    client.attachments_of_integration(&id).await?
                }
                (None, Some(s)) => client.attachments_of_stack(&s).await?,
                _ => anyhow::bail!("give one of --integration or --stack"),
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
            let client = broker.client()?;
            let (integration, stack) = resolve_ends(&client, &id).await?;
            let found = client.attachment(&integration, &stack).await?;
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
            let client = broker.client()?;
            let integration = resolve_id(&client, &integration).await?;
            let created = client
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
            let client = broker.client()?;
            let (integration, stack) = resolve_ends(&client, &id).await?;
            let current = client.attachment(&integration, &stack).await?;
            let update = AttachmentUpdate {
                read: read.unwrap_or(current.read),
                write: write.unwrap_or(current.write),
            };
            let updated = client
                .update_attachment(&integration, &stack, &update)
                .await?;
            output::one(output.output, &updated, fields)
        }
        AttachmentCommand::Delete { broker, id } => {
            let client = broker.client()?;
            let (integration, stack) = resolve_ends(&client, &id).await?;
            client.detach(&integration, &stack).await?;
            eprintln!("detached {integration}/{stack}");
            Ok(())
        }
    }
}

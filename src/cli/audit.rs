//! `deputy audit`: the audit trail, newest first, one page at a time with
//! the API's filters; `--cursor` continues where the last page ended.

use clap::Args;

use super::BrokerArgs;
use super::output::{self, Format, OutputArgs, Table};
use crate::wire::AuditFilter;

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    broker: BrokerArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Only this action, e.g. `attachment.create` or `credentials.issue`.
    #[arg(long)]
    action: Option<String>,
    /// Only this target, e.g. `stack/net` or `integration/<id>`.
    #[arg(long)]
    target: Option<String>,
    /// Only events about this stack: its runs, its changes (`stack/ID`)
    /// and its attachments (`attachment/INTEGRATION/ID`).
    #[arg(long)]
    stack: Option<String>,
    /// Only events about this integration (by id or name): its changes,
    /// verifications and attachments. The id of a deleted integration
    /// still finds its history.
    #[arg(long)]
    integration: Option<String>,
    /// Only events of this API key.
    #[arg(long)]
    key: Option<String>,
    /// Only this outcome: `ok`, or a problem code such as `forbidden`.
    #[arg(long)]
    outcome: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// Events per page, 1 to 1000.
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// Continue after the page that printed this cursor.
    #[arg(long)]
    cursor: Option<String>,
}

pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    let client = args.broker.client()?;
    // A name is resolved to its integration's id; what names no
    // integration (a deleted one's id) is sent as given.
    let integration_id = match &args.integration {
        Some(given) => Some(
            super::integration::find(&client, given)
                .await?
                .map_or_else(|| given.clone(), |i| i.id.to_string()),
        ),
        None => None,
    };
    let filter = AuditFilter {
        action: args.action,
        target: args.target,
        key_id: args.key,
        stack_id: args.stack,
        integration_id,
        outcome: args.outcome,
        since: args.since,
        limit: Some(args.limit),
        cursor: args.cursor,
    };
    let page = client.audit_page(&filter).await?;
    match args.output.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&page)?),
        Format::Table => {
            let mut t = Table::new(&["AT", "ACTION", "TARGET", "OUTCOME", "KEY", "STACK"]);
            for e in &page.items {
                t.row(vec![
                    e.at.clone(),
                    e.action.clone(),
                    e.target.clone(),
                    e.counted_outcome(),
                    output::or_dash(e.key_id.as_deref()),
                    output::or_dash(e.stack_id.as_deref()),
                ]);
            }
            println!("{}", t.render());
            if let Some(cursor) = &page.next_cursor {
                eprintln!("more: deputy audit --cursor {cursor} (with the same filters)");
            }
        }
    }
    Ok(())
}

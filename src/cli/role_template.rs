//! `deputy role-template` and `deputy trust-policy`: what a customer
//! deploys for an integration's role, from the broker (which knows the
//! attachments, the scope and the length limit).

use std::path::PathBuf;

use clap::Args;

use super::BrokerArgs;
use crate::wire::RoleTemplateQuery;

#[derive(Debug, Args)]
pub struct RoleTemplateArgs {
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The integration's id or name.
    #[arg(long)]
    pub integration: String,
    /// `cloudformation` (a template for a stack or StackSet), `terraform`
    /// (a configuration for the hashicorp/aws provider) or `json` (the
    /// role's definition, for your own tooling).
    #[arg(long, default_value = "cloudformation")]
    pub format: String,
    /// Attach this managed policy to the role (repeat for several).
    #[arg(long = "managed-policy-arn", value_name = "ARN")]
    pub managed_policy_arns: Vec<String>,
    /// Also trust this stack, before it is attached (repeat for several):
    /// a stack-scoped role must trust a stack before the attachment can be
    /// verified against it.
    #[arg(long = "stack", value_name = "STACK_ID")]
    pub stacks: Vec<String>,
    /// Also create this S3 bucket for Terraform state, and let the role use it.
    #[arg(long, value_name = "BUCKET")]
    pub state_bucket: Option<String>,
    /// Also create this DynamoDB table for Terraform state locking.
    #[arg(long, value_name = "TABLE", requires = "state_bucket")]
    pub lock_table: Option<String>,
    /// Where you will host the CloudFormation template (https): prints the
    /// console's quick-create link for it.
    #[arg(long, value_name = "URL")]
    pub template_url: Option<String>,
    /// Write the template to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub async fn role_template(args: RoleTemplateArgs) -> anyhow::Result<()> {
    let query = RoleTemplateQuery {
        format: Some(args.format),
        managed_policy_arn: args.managed_policy_arns,
        stack_id: args.stacks,
        state_bucket: args.state_bucket,
        lock_table: args.lock_table,
        template_url: args.template_url,
    };
    let client = args.broker.client()?;
    let integration = super::integration::resolve_id(&client, &args.integration).await?;
    let template = client.role_template(&integration, &query).await?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &template.content)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "deputy: wrote {} (trust policy: {} characters)",
                path.display(),
                template.trust_policy_length
            );
        }
        None => print!("{}", template.content),
    }
    if let Some(url) = &template.quick_create_url {
        eprintln!("deputy: upload the template to the template URL, then open:\n{url}");
    }
    Ok(())
}

/// `deputy trust-policy`: the trust policy over every attachment.
pub async fn trust_policy(broker: &BrokerArgs, integration: &str) -> anyhow::Result<()> {
    let client = broker.client()?;
    let integration = super::integration::resolve_id(&client, integration).await?;
    let policy = client.trust_policy(&integration).await?;
    if policy.document.is_empty() {
        anyhow::bail!(
            "integration {integration} has no attachments, so its role trusts nobody through \
             deputy yet: see `deputy role-template --stack` to create the role first"
        );
    }
    println!("{}", policy.document);
    eprintln!(
        "deputy: {} characters of {} allowed, {} stack(s), trust scope {}",
        policy.length, policy.max_length, policy.stacks, policy.trust_scope
    );
    Ok(())
}

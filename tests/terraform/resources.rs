//! Resources and data sources against a real broker, driven by a real
//! Terraform: the whole lifecycle, drift, import, exact trust-policy JSON
//! over a 100-stack `for_each`, trust policies for 1,000 stacks within
//! IAM's quota or refused at plan, validation and connection errors.

use deputy::wire::{IntegrationInput, StackInput};

use crate::broker::LiveBroker;
use crate::support::{Workspace, assert_contains, text};

const PRINCIPAL: &str = "arn:aws:iam::123456789012:role/deputy-broker";

fn lifecycle_config(stack_id: &str, stack_name: &str, write: bool) -> String {
    format!(
        r#"
resource "deputy_stack" "s" {{
  id   = "{stack_id}"
  name = "{stack_name}"
}}
resource "deputy_aws_integration" "i" {{
  name     = "prod"
  role_arn = "arn:aws:iam::210987654321:role/deploy"
  labels   = {{ env = "prod" }}
}}
resource "deputy_aws_integration_attachment" "a" {{
  integration_id = deputy_aws_integration.i.id
  stack_id       = deputy_stack.s.id
  write          = {write}
}}
output "attachment_id" {{ value = deputy_aws_integration_attachment.a.id }}
output "external_ids" {{ value = deputy_aws_integration_attachment.a.external_ids }}
output "integration_id" {{ value = deputy_aws_integration.i.id }}
"#
    )
}

#[test]
fn create_update_replace_import_destroy() {
    let b = LiveBroker::start();
    let ws = b.workspace(&lifecycle_config("net", "Network", true));
    let out = ws.apply_outputs();
    let integration = out["integration_id"]["value"].as_str().unwrap().to_string();
    assert_eq!(out["attachment_id"]["value"], format!("{integration}/net"));
    assert_eq!(
        out["external_ids"]["value"]["write"],
        format!("acme@{integration}@net@write")
    );
    assert_eq!(ws.plan_exit().0, 0, "no changes after create");

    // In place: a name and a phase.
    ws.write(&lifecycle_config("net", "Core network", false));
    let (code, plan) = ws.plan_exit();
    assert_eq!(code, 2);
    assert_contains(&plan, "Plan: 0 to add, 2 to change, 0 to destroy.");
    ws.apply();
    assert_eq!(ws.plan_exit().0, 0);
    let attachment = b
        .block_on(b.admin().attachment(&integration, "net"))
        .unwrap();
    assert!(attachment.read && !attachment.write);

    // Replace: the stack id is immutable, and the attachment follows it.
    ws.write(&lifecycle_config("net2", "Core network", false));
    let (_, plan) = ws.plan_exit();
    assert_contains(&plan, "must be replaced");
    assert_contains(&plan, "Plan: 2 to add, 0 to change, 2 to destroy.");
    ws.apply();
    assert!(
        b.block_on(b.admin().stack("net"))
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(ws.plan_exit().0, 0);

    // Import everything into a fresh state with import blocks.
    let fresh = b.workspace(&format!(
            "{}\nimport {{\n  to = deputy_stack.s\n  id = \"net2\"\n}}\nimport {{\n  to = deputy_aws_integration.i\n  id = \"{integration}\"\n}}\nimport {{\n  to = deputy_aws_integration_attachment.a\n  id = \"{integration}/net2\"\n}}\n",
            lifecycle_config("net2", "Core network", false)
        ),
    );
    let (_, plan) = fresh.plan_exit();
    assert_contains(
        &plan,
        "Plan: 3 to import, 0 to add, 0 to change, 0 to destroy.",
    );
    fresh.apply();
    assert_eq!(fresh.plan_exit().0, 0, "no changes after import");

    // `terraform import` with a bad attachment id says what an id looks like.
    let cli = b.workspace(&lifecycle_config("net2", "Core network", false));
    let err = cli.fails(&[
        "import",
        "-no-color",
        "deputy_aws_integration_attachment.a",
        "just-one-part",
    ]);
    assert_contains(
        &err,
        r#""just-one-part" is not an attachment id: use INTEGRATION_ID/STACK_ID"#,
    );

    fresh.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(b.block_on(b.admin().stacks()).unwrap().is_empty());
    assert!(
        b.block_on(b.admin().integration(&integration))
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn drift_is_planned_both_ways() {
    let b = LiveBroker::start();
    let ws = b.workspace(&lifecycle_config("net", "Network", true));
    let out = ws.apply_outputs();
    let integration = out["integration_id"]["value"].as_str().unwrap().to_string();
    let admin = b.admin();

    // Changed out of band: planned back.
    let mut changed = b.block_on(admin.integration(&integration)).unwrap();
    changed.duration_seconds = 7200;
    let input = IntegrationInput {
        name: changed.name.clone(),
        role_arn: changed.role_arn.to_string(),
        duration_seconds: Some(7200),
        labels: [("env".to_string(), "dev".to_string())].into(),
        ..Default::default()
    };
    b.block_on(admin.replace_integration(&integration, &input))
        .unwrap();
    let (code, plan) = ws.plan_exit();
    assert_eq!(code, 2);
    assert_contains(&plan, "~ labels");
    assert_contains(&plan, "Plan: 0 to add, 1 to change, 0 to destroy.");

    // Deleted out of band: planned for re-creation.
    b.block_on(admin.detach(&integration, "net")).unwrap();
    b.block_on(admin.delete_stack("net")).unwrap();
    let (_, plan) = ws.plan_exit();
    assert_contains(&plan, "Plan: 2 to add, 1 to change, 0 to destroy.");
    ws.apply();
    assert_eq!(ws.plan_exit().0, 0);
    assert_eq!(b.block_on(admin.stack("net")).unwrap().name, "Network");
}

#[test]
fn trust_policies_at_scale_fit_iams_quota_or_fail_at_plan() {
    let b = LiveBroker::start();
    let admin = b.admin();
    let integration = |name: &str, trust_scope: Option<&str>| {
        b.block_on(admin.create_integration(&IntegrationInput {
            name: name.into(),
            role_arn: "arn:aws:iam::210987654321:role/shared".into(),
            trust_scope: trust_scope.map(str::to_string),
            ..Default::default()
        }))
        .unwrap()
        .id
    };
    let (exact, shared) = (
        integration("exact", None),
        integration("shared", Some("integration")),
    );
    for n in 0..1000 {
        b.block_on(admin.create_stack(&StackInput {
            id: format!("s{n:03}"),
            ..Default::default()
        }))
        .unwrap();
    }
    let stacks = r#"locals { stacks = [for n in range(1000) : format("s%03d", n)] }"#;
    let ws = b.workspace(&format!(
            r#"
{stacks}
data "deputy_account" "this" {{}}
data "deputy_aws_integration_attachment_external_id" "each" {{
  for_each       = toset(slice(local.stacks, 0, 100))
  integration_id = "{exact}"
  stack_id       = each.key
}}
data "deputy_aws_integration_attachment_external_id" "scoped" {{
  integration_id = "{shared}"
  stack_id       = "s042"
  write          = false
}}
data "deputy_aws_integration_trust_policy" "few" {{
  integration_id = "{exact}"
  stack_ids      = slice(local.stacks, 0, 15)
}}
data "deputy_aws_integration_trust_policy" "all" {{
  integration_id = "{shared}"
  stack_ids      = local.stacks
}}
output "principal" {{ value = data.deputy_account.this.aws_principal_arn }}
output "s042" {{ value = data.deputy_aws_integration_attachment_external_id.each["s042"].assume_role_policy_statement }}
output "s042_length" {{ value = data.deputy_aws_integration_attachment_external_id.each["s042"].length }}
output "s042_write" {{ value = data.deputy_aws_integration_attachment_external_id.each["s042"].external_id }}
output "scoped" {{ value = data.deputy_aws_integration_attachment_external_id.scoped.assume_role_policy_statement }}
output "few" {{ value = data.deputy_aws_integration_trust_policy.few.json }}
output "few_length" {{ value = data.deputy_aws_integration_trust_policy.few.length }}
output "all" {{ value = data.deputy_aws_integration_trust_policy.all.json }}
output "all_length" {{ value = data.deputy_aws_integration_trust_policy.all.length }}
output "same_function" {{
  value = data.deputy_aws_integration_trust_policy.all.json == provider::deputy::trust_policy_document(data.deputy_account.this.aws_principal_arn, "acme", "{shared}", local.stacks, ["read", "write"], {{ trust_scope = "integration" }})
}}
output "same_statements" {{
  value = jsonencode([for s in slice(local.stacks, 0, 100) : jsondecode(data.deputy_aws_integration_attachment_external_id.each[s].assume_role_policy_statement)]) == jsonencode([for s in slice(local.stacks, 0, 100) : jsondecode(provider::deputy::assume_role_policy_statement(data.deputy_account.this.aws_principal_arn, [provider::deputy::external_id("acme", "{exact}", s, "read"), provider::deputy::external_id("acme", "{exact}", s, "write")]))])
}}
"#
        ),
    );
    let out = ws.apply_outputs();
    assert_eq!(out["principal"]["value"], PRINCIPAL);
    let p = format!("acme@{exact}");
    let s042 = format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"{PRINCIPAL}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":["{p}@s042@read","{p}@s042@write"]}}}}}}"#
    );
    assert_eq!(out["s042"]["value"], s042);
    assert_eq!(out["s042_length"]["value"], s042.len());
    assert_eq!(out["s042_write"]["value"], format!("{p}@s042@write"));
    assert_eq!(
        out["scoped"]["value"],
        format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{PRINCIPAL}"}},"Action":"sts:AssumeRole","Condition":{{"StringLike":{{"sts:ExternalId":["acme@{shared}@*@read"]}}}}}}"#
        )
    );
    let ids: Vec<String> = (0..15)
        .flat_map(|n| ["read", "write"].map(|ph| format!("\"{p}@s{n:03}@{ph}\"")))
        .collect();
    let few = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{PRINCIPAL}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":[{}]}}}}}}]}}"#,
        ids.join(",")
    );
    assert_eq!(out["few"]["value"], few);
    assert_eq!(out["few_length"]["value"], few.len());
    let all = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{PRINCIPAL}"}},"Action":"sts:AssumeRole","Condition":{{"StringLike":{{"sts:ExternalId":["acme@{shared}@*@read","acme@{shared}@*@write"]}}}}}}]}}"#
    );
    assert_eq!(out["all"]["value"], all);
    assert_eq!(out["all_length"]["value"], all.len());
    assert_eq!(out["same_function"]["value"], true);
    assert_eq!(out["same_statements"]["value"], true);

    // 1,000 stacks in stack scope: refused at plan, on the input, with the
    // size, the limit, the count and both fixes; the function likewise.
    ws.write(&format!(
        r#"
{stacks}
data "deputy_aws_integration_trust_policy" "all" {{
  integration_id = "{exact}"
  stack_ids      = local.stacks
}}
"#
    ));
    let err = ws.fails(&["plan", "-no-color"]);
    assert_contains(&err, "Error: Trust policy too long for IAM");
    assert_contains(&err, "stack_ids = local.stacks");
    for says in [
        "stack(s), over the limit of 2048",
        "for 1000 stack(s)",
        r#"declare trust_scope = "integration" on the integration"#,
        "split the stacks over several roles",
    ] {
        assert_contains(&err, says);
    }
    ws.write(&format!(
        r#"
{stacks}
output "p" {{ value = provider::deputy::trust_policy_document("{PRINCIPAL}", "acme", "{exact}", local.stacks, ["read", "write"]) }}
"#
    ));
    let err = ws.fails(&["plan", "-no-color"]);
    assert_contains(&err, "for 1000 stack(s), over the limit of 2048");

    // A raised quota is the provider's max_trust_policy_length.
    ws.write(&format!(
        r#"
{stacks}
provider "deputy" {{
  max_trust_policy_length = 4096
}}
data "deputy_aws_integration_trust_policy" "thirty" {{
  integration_id = "{exact}"
  stack_ids      = slice(local.stacks, 0, 30)
}}
output "length" {{ value = data.deputy_aws_integration_trust_policy.thirty.length }}
"#
    ));
    let out = ws.apply_outputs();
    let length = out["length"]["value"].as_u64().unwrap();
    assert!((2049..=4096).contains(&length), "{length}");

    // A stack that does not exist yet is a warning on the element: its
    // External IDs derive from the id all the same.
    ws.write(&format!(
        "data \"deputy_aws_integration_trust_policy\" \"x\" {{\n  integration_id = \"{exact}\"\n  stack_ids = [\"s001\", \"ghost\"]\n}}\n"
    ));
    let out = ws.ok(&["plan", "-no-color"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_contains(
        &all,
        r#"Warning: Stack not registered yet with data.deputy_aws_integration_trust_policy.x, on main.tf line 10, in data "deputy_aws_integration_trust_policy" "x": 10: stack_ids = ["s001", "ghost"] Stack "ghost" does not exist in the deputy broker yet."#,
    );
}

#[test]
fn validation_errors_name_the_attribute_and_the_fix() {
    let b = LiveBroker::start();
    let ws = b.workspace(
        r#"
resource "deputy_stack" "bad" {
  id = "Not A Slug"
}
resource "deputy_aws_integration" "bad" {
  name             = "bad"
  role_arn         = "arn:aws:iam::123456789012:user/bob"
  duration_seconds = 60
  external_id      = "has space"
}
resource "deputy_aws_integration_attachment" "bad" {
  integration_id = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2"
  stack_id       = "net"
  read           = false
  write          = false
}
"#,
    );
    let err = ws.fails(&["plan", "-no-color"]);
    for expected in [
        r#"Error: Invalid stack id with deputy_stack.bad, on main.tf line 10, in resource "deputy_stack" "bad": 10: id = "Not A Slug" "Not A Slug" is not a valid stack id: use 1 to 63 characters of lowercase letters, digits and '-', starting with a letter or digit (for example "prod-network")"#,
        r#"Error: Invalid role ARN with deputy_aws_integration.bad, on main.tf line 14, in resource "deputy_aws_integration" "bad": 14: role_arn = "arn:aws:iam::123456789012:user/bob" "arn:aws:iam::123456789012:user/bob" is not an IAM role ARN: the resource must be "role/NAME" or "role/PATH/NAME""#,
        r#"Error: Invalid duration with deputy_aws_integration.bad, on main.tf line 15, in resource "deputy_aws_integration" "bad": 15: duration_seconds = 60 Session duration must be between 15 minutes and 12 hours (900 to 43200 seconds, as STS accepts); 60 is outside that range"#,
        r#"Error: Invalid External ID with deputy_aws_integration.bad, on main.tf line 16, in resource "deputy_aws_integration" "bad": 16: external_id = "has space" a custom external_id is only used with generate_credentials_in_worker = true; in broker mode deputy derives one External ID per stack and phase: remove external_id or enable worker mode"#,
        r#"Error: Attachment serves no phase with deputy_aws_integration_attachment.bad, on main.tf line 22, in resource "deputy_aws_integration_attachment" "bad": 22: write = false read and write are both false"#,
    ] {
        assert_contains(&err, expected);
    }
}

#[test]
fn broker_down_or_wrong_key_is_a_clear_error() {
    let b = LiveBroker::start();
    // Fifteen objects that each need the broker: one cause is one error.
    let config = "data \"deputy_account\" \"this\" {}\ndata \"deputy_stack\" \"s\" {\n  count = 15\n  id = \"stack-${count.index}\"\n}\n";
    let wrong_key = Workspace::with_env(
        config,
        &[
            ("DEPUTY_ENDPOINT", b.broker.base.as_str()),
            ("DEPUTY_TOKEN", "dpk_0123456789abcdef_bm9wZQ"),
        ],
    );
    let err = wrong_key.fails(&["plan", "-no-color"]);
    assert_contains(&err, "Error: deputy broker refused the API key");
    assert_contains(
        &err,
        "unknown API key. Check the provider's key (the first of `token`, `token_file`, DEPUTY_TOKEN_FILE and DEPUTY_TOKEN that is set)",
    );
    // Terraform adds its own note on a provider without a block; deputy's
    // error is there once, not once per object.
    assert_eq!(
        err.matches("Error: deputy").count(),
        1,
        "one error per cause: {err}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = Workspace::with_env(
        config,
        &[
            ("DEPUTY_ENDPOINT", &format!("http://127.0.0.1:{port}")),
            ("DEPUTY_TOKEN", &b.broker.admin_token),
        ],
    );
    let started = std::time::Instant::now();
    let err = down.fails(&["plan", "-no-color"]);
    assert!(started.elapsed().as_secs() < 20, "fails fast, no hang");
    assert_contains(&err, "Error: Cannot reach the deputy broker");
    assert_contains(
        &err,
        "Check that the broker is running and that `endpoint` (or DEPUTY_ENDPOINT) points at it.",
    );
    assert_eq!(
        err.matches("Error: Cannot reach").count(),
        1,
        "one error per cause: {err}"
    );

    let missing = Workspace::new(config);
    let err = missing.fails(&["plan", "-no-color"]);
    assert_contains(
        &err,
        "This needs the deputy broker, and the provider has no broker endpoint: set `endpoint` in the provider block or the DEPUTY_ENDPOINT environment variable.",
    );
}

#[test]
fn trust_scope_source_identity_and_role_templates_through_terraform() {
    let b = LiveBroker::start();
    let ws = b.workspace(
        r#"
resource "deputy_aws_integration" "shared" {
  name                = "shared"
  role_arn            = "arn:aws:iam::210987654321:role/team/shared"
  duration_seconds    = 7200
  trust_scope         = "integration"
  set_source_identity = true
}
data "deputy_aws_integration_role_template" "t" {
  integration_id = deputy_aws_integration.shared.id
  format         = "terraform"
  state_bucket   = "acme-tf-state"
}
output "content" { value = data.deputy_aws_integration_role_template.t.content }
output "file" { value = data.deputy_aws_integration_role_template.t.file_name }
output "length" { value = data.deputy_aws_integration_role_template.t.trust_policy_length }
"#,
    );
    let out = ws.apply_outputs();
    let content = out["content"]["value"].as_str().unwrap();
    for has in [
        "resource \"aws_iam_role\" \"deputy\"",
        "  path                 = \"/team/\"",
        "  max_session_duration = 7200",
        "\"StringLike\"",
        "\"sts:SetSourceIdentity\"",
        "resource \"aws_s3_bucket\" \"state\"",
        "\"arn:aws:s3:::acme-tf-state/*\"",
    ] {
        assert!(content.contains(has), "{has}\n{content}");
    }
    assert_eq!(out["file"]["value"], "shared.tf");
    assert!(out["length"]["value"].as_u64().unwrap() < 400);
    assert_eq!(ws.plan_exit().0, 0, "the new attributes round-trip");

    ws.write(
        r#"
resource "deputy_aws_integration" "bad" {
  name                           = "bad"
  role_arn                       = "arn:aws:iam::210987654321:role/bad"
  generate_credentials_in_worker = true
  external_id                    = "shared-id"
  trust_scope                    = "integration"
}
resource "deputy_aws_integration" "typo" {
  name        = "typo"
  role_arn    = "arn:aws:iam::210987654321:role/typo"
  trust_scope = "stacks"
}
data "deputy_aws_integration_role_template" "bad" {
  integration_id      = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2"
  format              = "yaml"
  state_bucket        = "Bad_Bucket"
  managed_policy_arns = ["arn:aws:iam::aws:role/nope"]
}
"#,
    );
    let err = ws.fails(&["plan", "-no-color"]);
    for says in [
        r#"Error: Invalid trust scope with deputy_aws_integration.bad"#,
        "remove external_id, or use trust_scope = \"stack\"",
        r#"trust_scope is "stacks": use "stack""#,
        r#"format is "yaml": use "cloudformation", "terraform" or "json""#,
        r#"state_bucket "Bad_Bucket" is not an S3 bucket name"#,
        r#""arn:aws:iam::aws:role/nope" is not a managed policy ARN"#,
    ] {
        assert_contains(&err, says);
    }
}

/// `apply`'s subject varies; it accepts each token once when `write_subject`
/// pins an environment.
fn runner_trust_config(write_subject: &str) -> String {
    let single_use = write_subject.contains(":environment:");
    format!(
        r#"
resource "deputy_stack" "s" {{
  id = "net"
}}
resource "deputy_runner_trust" "plan" {{
  stack_id = deputy_stack.s.id
  issuer   = "https://token.actions.githubusercontent.com"
  audience = "deputy"
  subject  = "repo:acme/net:*"
  claims   = {{ repository = "acme/net" }}
  phases   = ["read"]
}}
resource "deputy_runner_trust" "apply" {{
  stack_id    = deputy_stack.s.id
  issuer      = "https://token.actions.githubusercontent.com"
  audience    = "deputy"
  subject     = "{write_subject}"
  claims      = {{ event_name = "push", ref_protected = "true" }}
  phases      = ["write"]
  description = "applies from main"
  single_use_tokens = {single_use}
}}
output "apply_id" {{ value = deputy_runner_trust.apply.id }}
"#
    )
}

#[test]
fn runner_trusts_through_terraform() {
    let b = LiveBroker::start();
    let ws = b.workspace(&runner_trust_config("repo:acme/net:ref:refs/heads/main"));
    let out = ws.apply_outputs();
    let id = out["apply_id"]["value"].as_str().unwrap().to_string();
    assert_eq!(ws.plan_exit().0, 0, "no changes after create");
    let stored = b.block_on(b.admin().runner_trust(&id)).unwrap();
    assert_eq!(stored.claims["event_name"], "push");
    assert_eq!(stored.phases, vec![deputy::model::Phase::Write]);
    assert!(!stored.single_use_tokens);

    // In place, single-use from now on.
    ws.write(&runner_trust_config("repo:acme/net:environment:production"));
    let (code, plan) = ws.plan_exit();
    assert_eq!(code, 2);
    assert_contains(&plan, "Plan: 0 to add, 1 to change, 0 to destroy.");
    ws.apply();
    let stored = b.block_on(b.admin().runner_trust(&id)).unwrap();
    assert_eq!(stored.subject, "repo:acme/net:environment:production");
    assert!(stored.single_use_tokens);
    assert_eq!(ws.plan_exit().0, 0);

    // Import by id into a fresh state, with no changes after.
    let fresh = b.workspace(&format!(
            "{}\nimport {{\n  to = deputy_runner_trust.apply\n  id = \"{id}\"\n}}\n",
            "resource \"deputy_runner_trust\" \"apply\" {\n  stack_id    = \"net\"\n  issuer      = \"https://token.actions.githubusercontent.com\"\n  audience    = \"deputy\"\n  subject     = \"repo:acme/net:environment:production\"\n  claims      = { event_name = \"push\", ref_protected = \"true\" }\n  phases      = [\"write\"]\n  description = \"applies from main\"\n  single_use_tokens = true\n}\n"
        ),
    );
    assert_contains(
        &fresh.plan_exit().1,
        "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.",
    );

    // Rules are checked at plan, on the attribute at fault.
    let bad = b.workspace(
        r#"
resource "deputy_runner_trust" "bad" {
  stack_id = "net"
  issuer   = "http://gitlab.com/"
  audience = "deputy"
  subject  = "*"
  claims   = { sub = "x" }
  phases   = []
}
"#,
    );
    let err = bad.fails(&["plan", "-no-color"]);
    for expected in [
        r#"Error: Invalid issuer with deputy_runner_trust.bad, on main.tf line 11, in resource "deputy_runner_trust" "bad": 11: issuer = "http://gitlab.com/" "http://gitlab.com/" is not https"#,
        r#"Error: Invalid subject with deputy_runner_trust.bad, on main.tf line 13, in resource "deputy_runner_trust" "bad": 13: subject = "*" subject "*" has a wildcard within its first 6 characters, so it would accept tokens from anyone's pipeline"#,
        r#"Error: Invalid claims"#,
        r#"claim "sub" cannot be a claim rule: set `subject` instead"#,
        r#"Error: Empty phases"#,
    ] {
        assert_contains(&err, expected);
    }

    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(b.block_on(b.admin().runner_trusts()).unwrap().is_empty());
}

const PLATFORM_CONFIG: &str = r#"
resource "deputy_space" "platform" {
  id = "platform"
}
resource "deputy_space" "payments" {
  id        = "payments"
  parent_id = deputy_space.platform.id
  inherit   = INHERIT
}
resource "deputy_aws_integration" "shared" {
  name     = "shared"
  role_arn = "arn:aws:iam::210987654321:role/deploy"
  space    = deputy_space.platform.id
}
"#;

const TEAM_CONFIG: &str = r#"
data "deputy_space" "mine" {
  id = "payments"
}
data "deputy_aws_integration" "shared" {
  name = "shared"
}
resource "deputy_stack" "pay" {
  id    = "pay"
  space = data.deputy_space.mine.id
}
resource "deputy_aws_integration_attachment" "pay" {
  integration_id = data.deputy_aws_integration.shared.id
  stack_id       = deputy_stack.pay.id
}
output "inherit" { value = data.deputy_space.mine.inherit }
"#;

/// One broker for several teams from Terraform alone: the platform's
/// stack (a root admin key) makes the spaces and the integration; the
/// team's stack, with a `write` key of its own space, registers its stack
/// and attaches the platform's integration, and can do nothing outside its
/// space; the platform cannot pull the ground from under an attachment.
#[test]
fn spaces_let_a_team_manage_its_own_part() {
    let b = LiveBroker::start();
    let platform = b.workspace(&PLATFORM_CONFIG.replace("INHERIT", "true"));
    platform.apply();
    assert_eq!(platform.plan_exit().0, 0, "no changes after create");
    // Keys are minted outside Terraform: a key's secret must not be kept
    // in state.
    let team_key = b
        .block_on(b.admin().create_key(&deputy::wire::ApiKeyInput {
            role: deputy::wire::KeyRole::Write,
            space_id: Some("payments".into()),
            stack_id: None,
            phases: None,
            description: "payments' Terraform".into(),
            expires_in_seconds: None,
        }))
        .unwrap();
    let (team_key_id, team_key) = (team_key.key.id, team_key.token);
    let env = [
        ("DEPUTY_ENDPOINT", b.broker.base.as_str()),
        ("DEPUTY_TOKEN", team_key.as_str()),
    ];
    let team = Workspace::with_env(TEAM_CONFIG, &env);
    let out = team.apply_outputs();
    assert_eq!(out["inherit"]["value"], true);
    assert_eq!(team.plan_exit().0, 0, "no changes after create");
    let stack = b.block_on(b.admin().stack("pay")).unwrap();
    assert_eq!(stack.space, "payments");

    // Outside its space the team's key gets nowhere, and says why.
    team.write(&format!(
        "{TEAM_CONFIG}\nresource \"deputy_stack\" \"theirs\" {{\n  id    = \"theirs\"\n  space = \"platform\"\n}}\n"
    ));
    let refused = team.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_contains(
        &refused,
        "space \"platform\" does not exist or is outside space \"payments\"",
    );
    team.write(TEAM_CONFIG);

    // The platform cannot turn inherit off under the attachment.
    platform.write(&PLATFORM_CONFIG.replace("INHERIT", "false"));
    let refused = platform.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_contains(&refused, "out of reach");
    assert_contains(&refused, "stack \"pay\" on integration \"shared\"");
    assert!(b.block_on(b.admin().space("payments")).unwrap().inherit);

    // Torn down in order: the team's part, then the platform's, which
    // keeps a space while a key of it is unrevoked.
    team.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    platform.write(&PLATFORM_CONFIG.replace("INHERIT", "true"));
    let refused = platform.fails(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert_contains(&refused, "space \"payments\" holds 1 unrevoked key");
    b.block_on(b.admin().revoke_key(&team_key_id)).unwrap();
    platform.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    let spaces = b.block_on(b.admin().spaces()).unwrap();
    assert_eq!(spaces.len(), 1, "only root is left: {spaces:?}");
}

//! The rough edges a new user of the provider hit (issue #12 of wave 2),
//! each pinned through a real Terraform against a real broker: names
//! checked at plan, stacks that do not exist yet, one error per problem,
//! plain messages, one log line per broker request, stable plans after an
//! attach, defaults known at plan, consistent import hints, and a state
//! upgrade from schema version 0.

use deputy::wire::{IntegrationInput, StackInput};

use crate::broker::LiveBroker;
use crate::support::{Workspace, assert_contains, flatten, text};

const ROLE: &str = "arn:aws:iam::210987654321:role/deploy";

fn integration(b: &LiveBroker, name: &str) -> String {
    b.block_on(b.admin().create_integration(&IntegrationInput {
        name: name.into(),
        role_arn: ROLE.into(),
        ..Default::default()
    }))
    .unwrap()
    .id
    .to_string()
}

#[test]
fn names_with_surrounding_whitespace_fail_at_plan_and_nothing_is_trimmed() {
    let b = LiveBroker::start();
    let ws = b.workspace(
        r#"
resource "deputy_aws_integration" "i" {
  name     = " padded-name "
  role_arn = "arn:aws:iam::210987654321:role/deploy"
}
resource "deputy_stack" "s" {
  id   = "net"
  name = "Network "
}
"#,
    );
    let err = ws.fails(&["plan", "-input=false", "-no-color"]);
    assert_contains(
        &err,
        r#"Error: Invalid name with deputy_aws_integration.i, on main.tf line 10, in resource "deputy_aws_integration" "i": 10: name = " padded-name " name " padded-name " starts or ends with whitespace: remove it (use "padded-name")"#,
    );
    assert_contains(
        &err,
        r#"name "Network " starts or ends with whitespace: remove it (use "Network")"#,
    );
    assert!(
        b.block_on(b.admin().integrations(None, &Default::default()))
            .unwrap()
            .is_empty()
    );
}

/// The seed's pattern: External IDs for stacks the same configuration
/// creates. They derive from the stack id, so they plan with a warning
/// instead of failing the first apply, and a destroy after a failed first
/// apply needs no `-refresh=false`.
#[test]
fn external_ids_of_stacks_not_created_yet_are_a_warning_not_an_error() {
    let b = LiveBroker::start();
    let shared = integration(&b, "shared");
    integration(&b, "taken");
    let config = |blocker: &str| {
        format!(
            r#"
{blocker}
resource "deputy_stack" "s" {{
  for_each   = toset(["net", "dns"])
  id         = each.value
  depends_on = [{depends}]
}}
data "deputy_aws_integration_attachment_external_id" "x" {{
  for_each       = toset(["net", "dns"])
  integration_id = "{shared}"
  stack_id       = each.value
}}
output "net" {{ value = data.deputy_aws_integration_attachment_external_id.x["net"].external_ids }}
"#,
            depends = if blocker.is_empty() {
                ""
            } else {
                "deputy_aws_integration.blocker"
            }
        )
    };
    // A first apply that fails before the stacks exist: the integration
    // name is taken.
    let ws = b.workspace(&config(
        r#"resource "deputy_aws_integration" "blocker" {
  name     = "taken"
  role_arn = "arn:aws:iam::210987654321:role/deploy"
}"#,
    ));
    let err = ws.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_contains(&err, "Warning: Stack not registered yet");
    assert_contains(&err, r#"an integration named "taken" already exists (id "#);
    assert_contains(
        &err,
        "import it instead of creating it, or pick another name",
    );
    assert!(b.block_on(b.admin().stacks()).unwrap().is_empty());
    // Destroy reads the data sources again: warnings, not errors.
    let out = ws.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert_contains(&text(&out.stdout), "Destroy complete!");

    // Without the blocker the first apply succeeds, with the IDs the
    // stacks get.
    ws.write(&config(""));
    let out = ws.apply_outputs();
    assert_eq!(
        out["net"]["value"]["write"],
        format!("acme@{shared}@net@write")
    );
    let (code, plan) = ws.plan_exit();
    assert_eq!(code, 0, "{plan}");
    assert!(!plan.contains("Warning"), "stacks exist now: {plan}");
}

#[test]
fn a_stack_that_cannot_be_derived_is_still_an_error() {
    let b = LiveBroker::start();
    let ws = b.workspace("data \"deputy_stack\" \"ghost\" {\n  id = \"ghost\"\n}\n");
    let err = ws.fails(&["plan", "-input=false", "-no-color"]);
    assert_contains(&err, "Error: Not found in the deputy broker");
}

/// Five objects and no API key: one error, not five.
#[test]
fn a_provider_without_a_key_is_one_error() {
    let b = LiveBroker::start();
    let mut objects = String::new();
    for i in 0..5 {
        objects.push_str(&format!(
            "resource \"deputy_stack\" \"s{i}\" {{\n  id = \"s{i}\"\n}}\n"
        ));
    }
    let block = format!(
        "provider \"deputy\" {{\n  endpoint = \"{}\"\n}}\n{objects}",
        b.broker.base
    );
    let err = Workspace::new(&block).fails(&["plan", "-input=false", "-no-color"]);
    assert_eq!(err.matches("Error:").count(), 1, "{err}");
    assert_contains(
        &err,
        "The provider has a broker endpoint but no API key: set DEPUTY_TOKEN_FILE (a file holding the key) or DEPUTY_TOKEN, or `token_file` or `token` in the provider block.",
    );
    // From the environment alone: still once from the provider (Terraform
    // adds its own note when there is no provider block).
    let ws = Workspace::with_env(&objects, &[("DEPUTY_ENDPOINT", b.broker.base.as_str())]);
    let err = ws.fails(&["plan", "-input=false", "-no-color"]);
    assert_eq!(err.matches("but no API key").count(), 1, "{err}");
    assert_contains(
        &err,
        "No provider block is needed when the environment sets both.",
    );
}

#[test]
fn configuration_mistakes_read_plainly() {
    let b = LiveBroker::start();
    let uses = "data \"deputy_account\" \"this\" {}\n";

    // The wrong broker: names, not Rust's debug formatting.
    let other = Workspace::with_env(
        &format!("provider \"deputy\" {{\n  account = \"other\"\n}}\n{uses}"),
        &[
            ("DEPUTY_ENDPOINT", b.broker.base.as_str()),
            ("DEPUTY_TOKEN", b.broker.admin_token.as_str()),
        ],
    );
    let err = other.fails(&["plan", "-input=false", "-no-color"]);
    assert_contains(
        &err,
        r#"The provider expects account "other" but the broker at"#,
    );
    assert!(!err.contains("AccountName("), "{err}");

    // An endpoint without a scheme, from the environment: the scheme
    // deputy would require anyway, a warning, and no error.
    let port = b
        .broker
        .base
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let bare = Workspace::with_env(
        uses,
        &[
            ("DEPUTY_ENDPOINT", &format!("localhost:{port}")),
            ("DEPUTY_TOKEN", b.broker.admin_token.as_str()),
        ],
    );
    let out = bare.ok(&["plan", "-input=false", "-no-color"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_contains(&all, "Warning: Broker endpoint without a scheme");
    assert_contains(
        &all,
        &format!(
            "DEPUTY_ENDPOINT is \"localhost:{port}\", without http:// or https://; deputy uses \"http://localhost:{port}\""
        ),
    );
    assert!(!all.contains("requires explicit configuration"), "{all}");

    // An endpoint that is another service: said so, without its page.
    let site = tiny_http_site();
    let wrong = Workspace::with_env(
        uses,
        &[
            ("DEPUTY_ENDPOINT", site.as_str()),
            ("DEPUTY_TOKEN", b.broker.admin_token.as_str()),
        ],
    );
    let err = wrong.fails(&["plan", "-input=false", "-no-color"]);
    assert_contains(&err, "Error: Not a deputy broker");
    assert_contains(&err, "it answered GET /v1/account with HTTP 404");
    assert!(!err.contains("Cannot reach"), "{err}");
    assert!(
        !err.contains("nothing here"),
        "the page is not quoted: {err}"
    );
}

/// A server that answers every request with an HTML 404, as a website or
/// a proxy's error page would.
fn tiny_http_site() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let body = "<html><body>nothing here</body></html>";
            let _ = write!(
                conn,
                "HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    address
}

#[test]
fn tf_log_debug_shows_one_line_per_broker_request_and_never_the_key() {
    let b = LiveBroker::start();
    let ws = b.workspace("resource \"deputy_stack\" \"s\" {\n  id = \"net\"\n}\n");
    let out = ws
        .command(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .env("TF_LOG", "debug")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let logs = text(&out.stderr);
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("deputy broker request"))
        .collect();
    let create = lines
        .iter()
        .find(|l| l.contains("method=POST") && l.contains("path=/v1/stacks"))
        .unwrap_or_else(|| panic!("no line for the create in:\n{}", lines.join("\n")));
    for field in ["status=201", "duration_ms=", "request_id="] {
        assert!(create.contains(field), "{field} missing: {create}");
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("method=POST") && l.contains("path=/v1/stacks"))
            .count(),
        1,
        "one line per request"
    );
    assert!(
        !logs.contains(&b.broker.admin_token),
        "the key is never logged"
    );
}

#[test]
fn plans_are_stable_after_attach_and_defaults_are_known_at_plan() {
    let b = LiveBroker::start();
    let config = r#"
resource "deputy_stack" "s" {
  for_each = toset(["net", "dns"])
  id       = each.value
}
resource "deputy_aws_integration" "i" {
  name     = "prod"
  role_arn = "arn:aws:iam::210987654321:role/deploy"
}
resource "deputy_aws_integration_attachment" "a" {
  for_each       = deputy_stack.s
  integration_id = deputy_aws_integration.i.id
  stack_id       = each.value.id
}
"#;
    let ws = b.workspace(config);
    let (_, plan) = ws.plan_exit();
    let plan = flatten(&plan);
    assert!(plan.contains("+ read = true"), "{plan}");
    assert!(plan.contains("+ write = true"), "{plan}");
    assert!(plan.contains("+ region = \"us-east-1\""), "{plan}");
    assert!(plan.contains("+ name = \"net\""), "{plan}");
    ws.apply();
    // Every attach re-verified the integration; nothing of that shows.
    let out = ws.ok(&["plan", "-refresh-only", "-input=false", "-no-color"]);
    assert_contains(&text(&out.stdout), "No changes.");
    assert_eq!(ws.plan_exit().0, 0);

    // A stack added to an existing integration: its External IDs are
    // known at plan, as the broker will answer them.
    ws.write(&config.replace(r#"["net", "dns"]"#, r#"["net", "dns", "web"]"#));
    let (code, plan) = ws.plan_exit();
    assert_eq!(code, 2, "{plan}");
    let plan = flatten(&plan);
    let integration = b
        .block_on(b.admin().integrations(None, &Default::default()))
        .unwrap()[0]
        .id
        .clone();
    for phase in ["read", "write"] {
        let id = format!("\"{phase}\" = \"acme@{integration}@web@{phase}\"");
        assert!(plan.contains(&id), "{id} in {plan}");
    }
    assert!(
        !plan.contains("external_ids = (known after apply)"),
        "{plan}"
    );
    ws.apply();
    assert_eq!(
        ws.plan_exit().0,
        0,
        "what the plan showed is what the broker answered"
    );
}

#[test]
fn an_imported_stack_with_empty_labels_plans_no_change() {
    let b = LiveBroker::start();
    b.block_on(b.admin().create_stack(&StackInput::with_id("net")))
        .unwrap();
    let ws = b.workspace(
        r#"
resource "deputy_stack" "s" {
  id     = "net"
  labels = {}
}
import {
  to = deputy_stack.s
  id = "net"
}
"#,
    );
    let (_, plan) = ws.plan_exit();
    assert_contains(
        &plan,
        "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.",
    );
    ws.apply();
    assert_eq!(ws.plan_exit().0, 0, "no one-time labels diff");
}

/// A state written by the provider's schema version 0 (with the
/// attributes since removed, and nulls where defaults now apply) is
/// upgraded by Terraform without a diff.
#[test]
fn state_of_schema_version_0_upgrades_without_a_diff() {
    let b = LiveBroker::start();
    let ws = b.workspace(
        r#"
resource "deputy_stack" "s" {
  id = "net"
}
resource "deputy_aws_integration" "i" {
  name     = "prod"
  role_arn = "arn:aws:iam::210987654321:role/deploy"
}
"#,
    );
    ws.apply();
    let path = ws.dir.path().join("terraform.tfstate");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for resource in state["resources"].as_array_mut().unwrap() {
        let integration = resource["type"] == "deputy_aws_integration";
        let instance = &mut resource["instances"][0];
        instance["schema_version"] = 0.into();
        // Identity came with this release; version 0 states have none.
        instance.as_object_mut().unwrap().remove("identity");
        instance
            .as_object_mut()
            .unwrap()
            .remove("identity_schema_version");
        let attributes = instance["attributes"].as_object_mut().unwrap();
        attributes.insert("labels".into(), serde_json::Value::Null);
        attributes.insert("description".into(), serde_json::Value::Null);
        if integration {
            attributes.insert("last_verified_at".into(), "2026-01-01T00:00:00Z".into());
            attributes.insert("read_session_policy_arns".into(), serde_json::Value::Null);
            attributes.insert("write_session_policy_arns".into(), serde_json::Value::Null);
        }
    }
    state["serial"] = (state["serial"].as_i64().unwrap() + 1).into();
    std::fs::write(&path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
    let (code, plan) = ws.plan_exit();
    assert_eq!(code, 0, "{plan}");
    ws.apply();
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for resource in state["resources"].as_array().unwrap() {
        let instance = &resource["instances"][0];
        assert_eq!(instance["schema_version"], 1, "{resource}");
        assert!(instance["attributes"].get("last_verified_at").is_none());
        assert_eq!(instance["attributes"]["labels"], serde_json::json!({}));
    }
}

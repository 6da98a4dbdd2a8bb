//! `deputy_trust_policy_document`: the offline data-source form of the
//! aggregate trust policy.

use crate::support::{Workspace, assert_contains};

#[test]
fn matches_the_function_and_lists_every_external_id() {
    let ws = Workspace::new(
        r#"
locals {
  principal   = "arn:aws:iam::123456789012:role/deputy-broker"
  integration = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2"
  stacks      = ["a", "b", "c"]
}
data "deputy_trust_policy_document" "both" {
  principal_arn  = local.principal
  account        = "acme"
  integration_id = local.integration
  stack_ids      = local.stacks
}
data "deputy_trust_policy_document" "tagged" {
  principal_arn  = local.principal
  account        = "acme"
  integration_id = local.integration
  stack_ids      = ["a"]
  phases         = ["write"]
  tag_session    = true
}
output "same_as_function" {
  value = data.deputy_trust_policy_document.both.json == provider::deputy::trust_policy_document(local.principal, "acme", local.integration, local.stacks, ["read", "write"])
}
output "ids" { value = data.deputy_trust_policy_document.both.external_ids }
output "tagged" { value = data.deputy_trust_policy_document.tagged.json }
"#,
    );
    let out = ws.apply_outputs();
    assert_eq!(out["same_as_function"]["value"], true);
    let p = "acme@01JQ3ZV8T4M5N6P7Q8R9S0T1V2";
    assert_eq!(
        out["ids"]["value"],
        serde_json::json!([
            format!("{p}@a@read"),
            format!("{p}@a@write"),
            format!("{p}@b@read"),
            format!("{p}@b@write"),
            format!("{p}@c@read"),
            format!("{p}@c@write"),
        ])
    );
    assert_eq!(
        out["tagged"]["value"],
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::123456789012:role/deputy-broker"}},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{{"StringEquals":{{"sts:ExternalId":["{p}@a@write"]}}}}}}]}}"#
        )
    );
}

#[test]
fn invalid_inputs_point_at_the_attribute_and_element() {
    let ws = Workspace::new(
        r#"
data "deputy_trust_policy_document" "bad" {
  principal_arn  = "arn:aws:iam::123456789012:group/admins"
  account        = "acme"
  integration_id = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2"
  stack_ids      = ["ok", "Not OK"]
  phases         = []
}
"#,
    );
    let errors = ws.fails(&["plan", "-input=false", "-no-color"]);
    assert_contains(
        &errors,
        r#"Error: Invalid principal ARN with data.deputy_trust_policy_document.bad, on main.tf line 10, in data "deputy_trust_policy_document" "bad": 10: principal_arn = "arn:aws:iam::123456789012:group/admins" "arn:aws:iam::123456789012:group/admins" is not an IAM principal ARN: the resource must be "root", "role/NAME" or "user/NAME""#,
    );
    assert_contains(
        &errors,
        r#"Error: Invalid stack id with data.deputy_trust_policy_document.bad, on main.tf line 13, in data "deputy_trust_policy_document" "bad": 13: stack_ids = ["ok", "Not OK"] "Not OK" is not a valid stack id"#,
    );
    assert_contains(
        &errors,
        r#"Error: Empty phases with data.deputy_trust_policy_document.bad, on main.tf line 14, in data "deputy_trust_policy_document" "bad": 14: phases = [] phases is empty: use ["read"], ["write"] or leave it out for both."#,
    );
}

//! Provider-defined functions, called by a real Terraform.

use crate::support::{Workspace, assert_contains};

const PRINCIPAL: &str = "arn:aws:iam::123456789012:role/deputy-broker";
const INTEGRATION: &str = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2";

#[test]
fn functions_return_exact_values() {
    let ws = Workspace::new(&format!(
        r#"
locals {{
  read  = provider::deputy::external_id("acme", "{INTEGRATION}", "prod-net", "read")
  write = provider::deputy::external_id("acme", "{INTEGRATION}", "prod-net", "write")
}}
output "read" {{ value = local.read }}
output "statement" {{
  value = provider::deputy::assume_role_policy_statement("{PRINCIPAL}", [local.read, local.write])
}}
output "policy" {{
  value = provider::deputy::trust_policy_document("{PRINCIPAL}", "acme", "{INTEGRATION}", ["a", "b"], ["write"])
}}
output "decoded_effect" {{
  value = jsondecode(provider::deputy::assume_role_policy_statement("{PRINCIPAL}", [local.read])).Effect
}}
"#
    ));
    let out = ws.apply_outputs();
    assert_eq!(
        out["read"]["value"],
        format!("acme@{INTEGRATION}@prod-net@read")
    );
    assert_eq!(
        out["statement"]["value"],
        format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{PRINCIPAL}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":["acme@{INTEGRATION}@prod-net@read","acme@{INTEGRATION}@prod-net@write"]}}}}}}"#
        )
    );
    assert_eq!(
        out["policy"]["value"],
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{PRINCIPAL}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":["acme@{INTEGRATION}@a@write","acme@{INTEGRATION}@b@write"]}}}}}}]}}"#
        )
    );
    assert_eq!(out["decoded_effect"]["value"], "Allow");
}

#[test]
fn bad_arguments_name_the_argument_and_the_fix() {
    let cases: &[(&str, &str)] = &[
        (
            &format!(
                r#"provider::deputy::external_id("acme", "{INTEGRATION}", "my stack", "read")"#
            ),
            r#"Invalid value for "stack_id" parameter: "my stack" is not a valid stack id: use 1 to 63 characters of lowercase letters, digits and '-', starting with a letter or digit (for example "prod-network")."#,
        ),
        (
            &format!(r#"provider::deputy::external_id("acme", "{INTEGRATION}", "net", "plan")"#),
            r#"Invalid value for "phase" parameter: "plan" is not a phase: use "read" (plans) or "write" (applies)."#,
        ),
        (
            r#"provider::deputy::external_id("acme", "int-1", "net", "read")"#,
            r#"Invalid value for "integration_id" parameter: "int-1" is not an integration id"#,
        ),
        (
            r#"provider::deputy::assume_role_policy_statement("arn:aws:iam::123:role/x", ["a@b"])"#,
            r#"Invalid value for "principal_arn" parameter: "arn:aws:iam::123:role/x" is not an IAM principal ARN: account id "123" is not 12 digits"#,
        ),
        (
            &format!(r#"provider::deputy::assume_role_policy_statement("{PRINCIPAL}", [])"#),
            r#"Invalid value for "external_ids" parameter: the list is empty: pass at least one External ID, for example [provider::deputy::external_id(...)]."#,
        ),
        (
            &format!(
                r#"provider::deputy::trust_policy_document("{PRINCIPAL}", "acme", "{INTEGRATION}", ["ok", "Bad"], ["read"])"#
            ),
            r#"Invalid value for "stack_ids" parameter: element 1: "Bad" is not a valid stack id"#,
        ),
    ];
    let config: String = cases
        .iter()
        .enumerate()
        .map(|(i, (expr, _))| format!("output \"case{i}\" {{\n  value = {expr}\n}}\n"))
        .collect();
    let ws = Workspace::new(&config);
    let errors = ws.fails(&["plan", "-input=false", "-no-color"]);
    for (expr, expected) in cases {
        assert_contains(&errors, expected);
        assert_contains(&errors, expr);
    }
}

#[test]
fn unknown_arguments_leave_the_result_unknown_until_apply() {
    let ws = Workspace::new(&format!(
        r#"
resource "terraform_data" "stack" {{
  input = "late-stack"
}}
output "id" {{
  value = provider::deputy::external_id("acme", "{INTEGRATION}", terraform_data.stack.output, "read")
}}
"#
    ));
    let plan = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert_contains(
        &crate::support::text(&plan.stdout),
        "+ id = (known after apply)",
    );
    let out = ws.apply_outputs();
    assert_eq!(
        out["id"]["value"],
        format!("acme@{INTEGRATION}@late-stack@read")
    );
}

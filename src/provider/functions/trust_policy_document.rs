//! `provider::deputy::trust_policy_document(principal_arn, account,
//! integration_id, stack_ids, phases)`: the aggregate path. One call builds
//! the trust policy of a role shared by many stacks.

use crate::model::trust_policy::{Actions, document_json};
use crate::model::{AccountName, ExternalId, IntegrationId, Phase, PrincipalArn, StackId};
use crate::tfplugin::function::{Function, FunctionError, Parameter, Signature};
use crate::tfplugin::value::{Type, Value};

use super::{parse_arg, parse_list_arg};

pub struct TrustPolicyDocumentFunction;

impl Function for TrustPolicyDocumentFunction {
    fn name(&self) -> &'static str {
        "trust_policy_document"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new(
                    "principal_arn",
                    Type::String,
                    "The AWS principal deputy runs as (`deputy_account.aws_principal_arn`).",
                ),
                Parameter::new("account", Type::String, "The broker account name."),
                Parameter::new("integration_id", Type::String, "The AWS integration's id."),
                Parameter::new(
                    "stack_ids",
                    Type::list(Type::String),
                    "Ids of the stacks that use the role.",
                ),
                Parameter::new(
                    "phases",
                    Type::list(Type::String),
                    "Phases to allow: `read`, `write` or both.",
                ),
            ],
            returns: Type::String,
            summary: "A whole trust-policy document for many stacks, as JSON",
            description: "Returns a trust policy (`Version` and one `Statement`) allowing \
                          `principal_arn` to assume the role with the External ID of every stack \
                          in `stack_ids` for every phase in `phases`, stack by stack. Use it as an \
                          `aws_iam_role`'s `assume_role_policy` directly.",
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let principal: PrincipalArn = parse_arg(args, 0)?;
        let account: AccountName = parse_arg(args, 1)?;
        let integration: IntegrationId = parse_arg(args, 2)?;
        let stacks: Vec<StackId> =
            parse_list_arg(args, 3, "pass the ids of the stacks that use this role")?;
        let phases: Vec<Phase> = parse_list_arg(
            args,
            4,
            "pass [\"read\"], [\"write\"] or [\"read\", \"write\"]",
        )?;
        let ids: Vec<ExternalId> = stacks
            .iter()
            .flat_map(|stack| {
                phases
                    .iter()
                    .map(|phase| ExternalId::derive(&account, &integration, stack, *phase))
            })
            .collect();
        Ok(Value::String(document_json(
            &principal,
            &ids,
            Actions::ASSUME_ROLE,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_major_order() {
        let list = |xs: &[&str]| Value::List(xs.iter().map(|s| Value::string(*s)).collect());
        let v = TrustPolicyDocumentFunction
            .call(&[
                Value::string("arn:aws:iam::123456789012:role/broker"),
                Value::string("acme"),
                Value::string("01JQ3ZV8T4M5N6P7Q8R9S0T1V2"),
                list(&["a", "b"]),
                list(&["read", "write"]),
            ])
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(v.as_str().unwrap()).unwrap();
        let ids = &doc["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"];
        let p = "acme@01JQ3ZV8T4M5N6P7Q8R9S0T1V2";
        assert_eq!(
            ids,
            &serde_json::json!([
                format!("{p}@a@read"),
                format!("{p}@a@write"),
                format!("{p}@b@read"),
                format!("{p}@b@write")
            ])
        );
    }
}

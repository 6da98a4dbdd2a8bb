//! `provider::deputy::assume_role_policy_statement(principal_arn, external_ids)`

use crate::model::trust_policy::{
    Accepted, Actions, DEFAULT_MAX_LENGTH, check_length, statement_json,
};
use crate::model::{ExternalId, PrincipalArn};
use tfplugin::function::{Function, FunctionError, Parameter, Signature};
use tfplugin::value::{Type, Value};

use super::{parse_arg, parse_list_arg};

pub struct AssumeRolePolicyStatementFunction;

impl Function for AssumeRolePolicyStatementFunction {
    fn name(&self) -> &'static str {
        "assume_role_policy_statement"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new(
                    "principal_arn",
                    Type::String,
                    "The AWS principal deputy runs as (`deputy_account.aws_principal_arn`).",
                ),
                Parameter::new(
                    "external_ids",
                    Type::list(Type::String),
                    "External IDs the role accepts, for example one per phase.",
                ),
            ],
            variadic: None,
            returns: Type::String,
            summary: "One sts:AssumeRole trust-policy statement, as JSON",
            description: "Returns a statement allowing `principal_arn` to assume the role only with \
                          one of `external_ids`. `jsondecode()` it into the `Statement` list of an \
                          `assume_role_policy`.",
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let principal: PrincipalArn = parse_arg(args, 0)?;
        let ids: Vec<ExternalId> = parse_list_arg(
            args,
            1,
            "pass at least one External ID, for example [provider::deputy::external_id(...)]",
        )?;
        let statement = statement_json(&principal, &Accepted::Exact(ids), Actions::ASSUME_ROLE);
        // A statement IAM could not hold even alone (many External IDs).
        check_length(&statement, DEFAULT_MAX_LENGTH, 1)
            .map_err(|e| FunctionError::argument(1, e.0))?;
        Ok(Value::String(statement))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_list_is_an_error_on_the_second_argument() {
        let err = AssumeRolePolicyStatementFunction
            .call(&[
                Value::string("arn:aws:iam::123456789012:root"),
                Value::List(vec![]),
            ])
            .unwrap_err();
        assert_eq!(err.argument, Some(1));
        assert!(err.text.starts_with("the list is empty"), "{}", err.text);
    }
}

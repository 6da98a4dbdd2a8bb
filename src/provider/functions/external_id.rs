//! `provider::deputy::external_id(account, integration_id, stack_id, phase)`

use crate::model::{AccountName, ExternalId, IntegrationId, Phase, StackId};
use tfplugin::function::{Function, FunctionError, Parameter, Signature};
use tfplugin::value::{Type, Value};

use super::parse_arg;

pub struct ExternalIdFunction;

impl Function for ExternalIdFunction {
    fn name(&self) -> &'static str {
        "external_id"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new(
                    "account",
                    Type::String,
                    "The broker account name (`deputy_account.name`).",
                ),
                Parameter::new(
                    "integration_id",
                    Type::String,
                    "The AWS integration's id (a ULID).",
                ),
                Parameter::new("stack_id", Type::String, "The stack's id (its slug)."),
                Parameter::new(
                    "phase",
                    Type::String,
                    "`read` (plans) or `write` (applies).",
                ),
            ],
            variadic: None,
            returns: Type::String,
            summary: "The External ID deputy uses for one stack and phase",
            description: "Returns `<account>@<integration_id>@<stack_id>@<phase>`, the External ID \
                          the broker passes to `sts:AssumeRole` when a run of that stack and phase \
                          asks for credentials.",
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let account: AccountName = parse_arg(args, 0)?;
        let integration: IntegrationId = parse_arg(args, 1)?;
        let stack: StackId = parse_arg(args, 2)?;
        let phase: Phase = parse_arg(args, 3)?;
        Ok(Value::String(
            ExternalId::derive(&account, &integration, &stack, phase).to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(args: [&str; 4]) -> Result<Value, FunctionError> {
        ExternalIdFunction.call(&args.map(Value::string))
    }

    #[test]
    fn builds_the_id() {
        let v = call(["acme", "01JQ3ZV8T4M5N6P7Q8R9S0T1V2", "net", "read"]).unwrap();
        assert_eq!(v, Value::string("acme@01JQ3ZV8T4M5N6P7Q8R9S0T1V2@net@read"));
    }

    #[test]
    fn blames_the_right_argument() {
        let cases = [
            (["Acme", "01JQ3ZV8T4M5N6P7Q8R9S0T1V2", "net", "read"], 0),
            (["acme", "nope", "net", "read"], 1),
            (
                ["acme", "01JQ3ZV8T4M5N6P7Q8R9S0T1V2", "my stack", "read"],
                2,
            ),
            (["acme", "01JQ3ZV8T4M5N6P7Q8R9S0T1V2", "net", "plan"], 3),
        ];
        for (args, index) in cases {
            assert_eq!(call(args).unwrap_err().argument, Some(index), "{args:?}");
        }
    }
}

//! `provider::deputy::trust_policy_length(json)`: a policy's length as IAM
//! counts it against the quota, for checks and `precondition`s on policies
//! assembled outside deputy (for example from several statements).

use crate::model::trust_policy::iam_length;
use tfplugin::function::{Function, FunctionError, Parameter, Signature};
use tfplugin::value::{Number, Type, Value};

pub struct TrustPolicyLengthFunction;

impl Function for TrustPolicyLengthFunction {
    fn name(&self) -> &'static str {
        "trust_policy_length"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![Parameter::new(
                "json",
                Type::String,
                "A trust policy document, as JSON.",
            )],
            variadic: None,
            returns: Type::Number,
            summary: "A trust policy's length as IAM counts it",
            description: "Returns the number of characters IAM counts against the role trust \
                          policy quota (2048 by default): every character but whitespace.",
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let json = args[0]
            .as_str()
            .ok_or_else(|| FunctionError::argument(0, "expected a string"))?;
        Ok(Value::Number(Number::Int(iam_length(json) as i64)))
    }
}

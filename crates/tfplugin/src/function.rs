//! Provider-defined functions (`provider::NAME::FUNCTION(...)`).
//!
//! Terraform calls functions on a provider that may not be configured, at
//! validate and plan time, and caches nothing: a function must be pure and
//! deterministic, and report bad input as a `FunctionError` that names the
//! argument, which Terraform points at in the user's expression.

use super::proto::tfplugin6 as pb;
use super::value::{Type, Value};

#[derive(Clone, Debug)]
pub struct Parameter {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
}

impl Parameter {
    pub fn new(name: &'static str, ty: Type, description: &'static str) -> Self {
        Parameter {
            name,
            ty,
            description,
        }
    }

    fn to_proto(&self) -> pb::function::Parameter {
        pb::function::Parameter {
            name: self.name.to_string(),
            r#type: self.ty.to_json_bytes(),
            // Terraform itself rejects null and skips the call on unknown
            // arguments (the result is then unknown), so implementations only
            // ever see known, non-null values.
            allow_null_value: false,
            allow_unknown_values: false,
            description: self.description.to_string(),
            description_kind: pb::StringKind::Markdown as i32,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Signature {
    pub parameters: Vec<Parameter>,
    /// Taken any number of times after `parameters` (Terraform passes each
    /// as one more argument).
    pub variadic: Option<Parameter>,
    pub returns: Type,
    pub summary: &'static str,
    pub description: &'static str,
}

impl Signature {
    pub fn to_proto(&self) -> pb::Function {
        pb::Function {
            parameters: self.parameters.iter().map(Parameter::to_proto).collect(),
            variadic_parameter: self.variadic.as_ref().map(Parameter::to_proto),
            r#return: Some(pb::function::Return {
                r#type: self.returns.to_json_bytes(),
            }),
            summary: self.summary.to_string(),
            description: self.description.to_string(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecation_message: String::new(),
        }
    }
}

/// A function's failure, optionally blaming one argument (0-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<usize>,
}

impl FunctionError {
    pub fn argument(index: usize, text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: Some(index),
        }
    }

    pub fn to_proto(&self) -> pb::FunctionError {
        pb::FunctionError {
            text: self.text.clone(),
            function_argument: self.argument.map(|i| i as i64),
        }
    }
}

pub trait Function: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn signature(&self) -> Signature;
    /// `args` are known, non-null and of the declared parameter types.
    fn call(&self, args: &[Value]) -> Result<Value, FunctionError>;
}

//! Provider-defined functions: pure, offline builders of External IDs and
//! trust policies. A `for_each` over many stacks can call them without a
//! data source instance (and a broker round trip) per stack.

mod assume_role_policy_statement;
mod external_id;
mod trust_policy_document;
mod trust_policy_length;

pub use assume_role_policy_statement::AssumeRolePolicyStatementFunction;
pub use external_id::ExternalIdFunction;
pub use trust_policy_document::TrustPolicyDocumentFunction;
pub use trust_policy_length::TrustPolicyLengthFunction;

use std::str::FromStr;

use crate::model::Invalid;
use tfplugin::function::FunctionError;
use tfplugin::value::Value;

/// Parses argument `index` with a model type. Terraform already prefixes the
/// text with the parameter's name, so the message is the rule and the fix.
fn parse_arg<T: FromStr<Err = Invalid>>(args: &[Value], index: usize) -> Result<T, FunctionError> {
    let text = args[index]
        .as_str()
        .ok_or_else(|| FunctionError::argument(index, "expected a string"))?;
    text.parse()
        .map_err(|e: Invalid| FunctionError::argument(index, e.0))
}

/// Parses every element of a list argument, naming the element at fault.
fn parse_list_arg<T: FromStr<Err = Invalid>>(
    args: &[Value],
    index: usize,
    empty_hint: &str,
) -> Result<Vec<T>, FunctionError> {
    let items = args[index]
        .as_seq()
        .ok_or_else(|| FunctionError::argument(index, "expected a list of strings"))?;
    if items.is_empty() {
        return Err(FunctionError::argument(
            index,
            format!("the list is empty: {empty_hint}"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.as_str() {
            Some(s) => s.parse().map_err(|e: Invalid| {
                FunctionError::argument(index, format!("element {i}: {}", e.0))
            }),
            None => Err(FunctionError::argument(
                index,
                format!("element {i} is null; remove it"),
            )),
        })
        .collect()
}

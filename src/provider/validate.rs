//! Reading configuration values through model types, with errors placed on
//! the attribute (and list element) they are about. Unknown and null values
//! are skipped: they are checked again when known, or are optional.

use std::str::FromStr;

use crate::model::Invalid;
use crate::model::names::check_labels;
use tfplugin::diag::{AttributePath, Diagnostic, Diagnostics};
use tfplugin::value::Value;

/// Parses the string attribute `name` when it is known.
pub fn attr<T: FromStr<Err = Invalid>>(
    config: &Value,
    name: &str,
    summary: &str,
    diags: &mut Diagnostics,
) -> Option<T> {
    let text = config.get(name).as_str()?;
    match text.parse() {
        Ok(v) => Some(v),
        Err(e) => {
            diags.push(Diagnostic::error(summary, e.0).at(AttributePath::attr(name)));
            None
        }
    }
}

/// Parses every known element of the list attribute `name`. Returns `None`
/// unless the whole list is known and valid.
pub fn list_attr<T: FromStr<Err = Invalid>>(
    config: &Value,
    name: &str,
    summary: &str,
    diags: &mut Diagnostics,
) -> Option<Vec<T>> {
    let items = config.get(name).as_seq()?;
    let mut parsed = Vec::with_capacity(items.len());
    let mut complete = true;
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(s) => match s.parse::<T>() {
                Ok(v) => parsed.push(v),
                Err(e) => {
                    complete = false;
                    diags.push(
                        Diagnostic::error(summary, e.0).at(AttributePath::attr(name).then_index(i)),
                    );
                }
            },
            Value::Null => {
                complete = false;
                diags.push(
                    Diagnostic::error(summary, "The list holds a null element: remove it.")
                        .at(AttributePath::attr(name).then_index(i)),
                );
            }
            _ => complete = false,
        }
    }
    complete.then_some(parsed)
}

/// A required list that is known to be empty.
pub fn require_non_empty(config: &Value, name: &str, fix: &str, diags: &mut Diagnostics) {
    if config.get(name).as_seq().is_some_and(<[Value]>::is_empty) {
        diags.push(
            Diagnostic::error(format!("Empty {name}"), format!("{name} is empty: {fix}"))
                .at(AttributePath::attr(name)),
        );
    }
}

/// A label map whose known entries follow the broker's label rules.
pub fn labels(config: &Value, name: &str, diags: &mut Diagnostics) {
    let Some(entries) = config.get(name).as_entries() else {
        return;
    };
    let known = entries
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)));
    if let Err(e) = check_labels(known) {
        diags.push(Diagnostic::error("Invalid labels", e.0).at(AttributePath::attr(name)));
    }
}

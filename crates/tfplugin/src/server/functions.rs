//! CallFunction. Functions answer with a `FunctionError` instead of
//! diagnostics, since Terraform points it at the argument in the user's
//! expression; they need no configured provider.

use super::{ProviderService, lookup};
use crate::function::FunctionError;
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;
use crate::value::wire;

impl<P: Provider> ProviderService<P> {
    pub(crate) fn call_function(
        &self,
        req: pb::call_function::Request,
    ) -> pb::call_function::Response {
        let result = (|| {
            let f = lookup(&self.registry.functions, "function", &req.name).map_err(|_| {
                FunctionError {
                    text: format!("this provider has no function {:?}", req.name),
                    argument: None,
                }
            })?;
            let sig = f.signature();
            let (given, fixed) = (req.arguments.len(), sig.parameters.len());
            if given < fixed || (given > fixed && sig.variadic.is_none()) {
                let at_least = if sig.variadic.is_some() {
                    "at least "
                } else {
                    ""
                };
                return Err(FunctionError {
                    text: format!(
                        "{} takes {at_least}{fixed} arguments, got {given}",
                        req.name
                    ),
                    argument: None,
                });
            }
            let parameters = sig.parameters.iter().chain(sig.variadic.iter().cycle());
            let args = req
                .arguments
                .iter()
                .zip(parameters)
                .enumerate()
                .map(|(i, (dv, p))| {
                    wire::decode_dynamic(&p.ty, Some(dv))
                        .map_err(|e| FunctionError::argument(i, format!("{}: {e}", p.name)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = f.call(&args)?;
            wire::encode_dynamic(&sig.returns, &out).map_err(|e| FunctionError {
                text: format!("could not encode the result: {e}"),
                argument: None,
            })
        })();
        match result {
            Ok(v) => pb::call_function::Response {
                result: Some(v),
                error: None,
            },
            Err(e) => pb::call_function::Response {
                result: None,
                error: Some(e.to_proto()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::service;
    use super::*;
    use crate::value::{Type, Value};

    fn arg(v: Value) -> pb::DynamicValue {
        let ty = match v {
            Value::Bool(_) => Type::Bool,
            _ => Type::String,
        };
        wire::encode_dynamic(&ty, &v).unwrap()
    }

    fn text(v: &str) -> pb::DynamicValue {
        arg(Value::string(v))
    }

    #[test]
    fn call_function() {
        /// The result, or the error's text (a prefix) and blamed argument.
        type Want = Result<&'static str, (&'static str, Option<i64>)>;
        let cases: [(&str, &str, Vec<pb::DynamicValue>, Want); 7] = [
            ("result", "join", vec![text("a"), text("b")], Ok("ab")),
            (
                "unknown function",
                "nope",
                vec![],
                Err(("this provider has no function \"nope\"", None)),
            ),
            (
                "too few arguments",
                "join",
                vec![text("a")],
                Err(("join takes at least 2 arguments, got 1", None)),
            ),
            (
                "variadic arguments",
                "join",
                vec![text("a"), text("b"), text("c")],
                Ok("abc"),
            ),
            (
                "variadic argument of the wrong type",
                "join",
                vec![text("a"), text("b"), arg(Value::Bool(true))],
                Err(("rest: ", Some(2))),
            ),
            (
                "argument of the wrong type",
                "join",
                vec![text("a"), arg(Value::Bool(true))],
                Err(("b: ", Some(1))),
            ),
            (
                "the function's own error",
                "join",
                vec![text(""), text("b")],
                Err(("must not be empty", Some(0))),
            ),
        ];
        for (case, name, arguments, want) in cases {
            let got = service().call_function(pb::call_function::Request {
                name: name.into(),
                arguments,
            });
            match (got.result, got.error, want) {
                (Some(r), None, Ok(want)) => {
                    let got = wire::decode_dynamic(&Type::String, Some(&r)).unwrap();
                    assert_eq!(got, Value::string(want), "{case}");
                }
                (None, Some(e), Err((prefix, argument))) => {
                    // A prefix, since the codec words its own messages: the
                    // server only adds the parameter's name.
                    assert!(e.text.starts_with(prefix), "{case}: {}", e.text);
                    assert_eq!(e.function_argument, argument, "{case}");
                }
                (result, error, want) => {
                    panic!("{case}: got {result:?} / {error:?}, want {want:?}")
                }
            }
        }
    }
}

//! `provider::deputy::trust_policy_document(principal_arn, account,
//! integration_id, stack_ids, phases, [options])`: the aggregate path. One
//! call builds the trust policy of a role shared by many stacks, in the
//! integration's trust scope, and refuses one IAM would refuse.

use crate::model::integration::TrustScope;
use crate::model::trust_policy::{self, Accepted, Actions, check_length, document_json};
use crate::model::{AccountName, IntegrationId, Phase, PrincipalArn, StackId};
use tfplugin::function::{Function, FunctionError, Parameter, Signature};
use tfplugin::value::{Type, Value};

use super::{parse_arg, parse_list_arg};

pub struct TrustPolicyDocumentFunction;

/// Position of the options argument.
const OPTIONS: usize = 5;

/// The settings the optional last argument carries. Functions get no
/// provider configuration, so the length limit is passed here too.
struct Options {
    scope: TrustScope,
    actions: Actions,
    max_length: usize,
}

const OPTION_KEYS: &str =
    "trust_scope, tag_session, set_source_identity and max_trust_policy_length";

fn options(args: &[Value]) -> Result<Options, FunctionError> {
    let mut options = Options {
        scope: TrustScope::default(),
        actions: Actions::ASSUME_ROLE,
        max_length: trust_policy::DEFAULT_MAX_LENGTH,
    };
    let given = &args[OPTIONS.min(args.len())..];
    if given.len() > 1 {
        return Err(FunctionError::argument(
            OPTIONS + 1,
            "pass at most one options object after phases",
        ));
    }
    let Some(map) = given.first() else {
        return Ok(options);
    };
    let bad = |text: String| FunctionError::argument(OPTIONS, text);
    let flag = |key: &str, value: &str| match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(bad(format!("{key} is {other:?}: use true or false"))),
    };
    for (key, value) in map.as_entries().into_iter().flatten() {
        let value = value
            .as_str()
            .ok_or_else(|| bad(format!("{key} is null: remove it or give it a value")))?;
        match key.as_str() {
            "trust_scope" => {
                options.scope = value.parse().map_err(|e: crate::model::Invalid| bad(e.0))?
            }
            "tag_session" => options.actions.tag_session = flag(key, value)?,
            "set_source_identity" => options.actions.set_source_identity = flag(key, value)?,
            "max_trust_policy_length" => {
                let n: i64 = value.parse().map_err(|_| {
                    bad(format!(
                        "max_trust_policy_length is {value:?}: use a whole number"
                    ))
                })?;
                options.max_length = trust_policy::max_length(n).map_err(|e| bad(e.0))?;
            }
            other => {
                return Err(bad(format!(
                    "unknown option {other:?}: the options are {OPTION_KEYS}"
                )));
            }
        }
    }
    Ok(options)
}

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
            variadic: Some(Parameter::new(
                "options",
                Type::map(Type::String),
                "Optional, at most one: `{ trust_scope = \"integration\" }` (the integration's \
                 scope; default `stack`), `tag_session = true` and `set_source_identity = true` (when \
                 the integration needs them), `max_trust_policy_length = 4096` (your account's quota; \
                 default 2048).",
            )),
            returns: Type::String,
            summary: "A whole trust-policy document for many stacks, as JSON",
            description: "Returns a trust policy (`Version` and one `Statement`) allowing \
                          `principal_arn` to assume the role for every stack in `stack_ids` and \
                          every phase in `phases`: with each stack's External IDs in `stack` scope \
                          (about 100 characters per stack), or with one pattern per phase in \
                          `integration` scope (the same size for any number of stacks). A policy \
                          longer than `max_trust_policy_length` (IAM's count: whitespace not \
                          counted) is an error, since IAM would refuse the role. Use the result as \
                          an `aws_iam_role`'s `assume_role_policy` directly.",
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
        let options = options(args)?;
        let stacks: Vec<(StackId, Vec<Phase>)> =
            stacks.into_iter().map(|s| (s, phases.clone())).collect();
        let accepted = Accepted::for_stacks(options.scope, &account, &integration, None, &stacks);
        let json = document_json(&principal, &accepted, options.actions);
        check_length(&json, options.max_length, stacks.len())
            .map_err(|e| FunctionError::argument(3, e.0))?;
        Ok(Value::String(json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(xs: &[&str]) -> Value {
        Value::List(xs.iter().map(|s| Value::string(*s)).collect())
    }

    fn call(stacks: &[&str], options: &[(&str, &str)]) -> Result<Value, FunctionError> {
        let mut args = vec![
            Value::string("arn:aws:iam::123456789012:role/broker"),
            Value::string("acme"),
            Value::string("01JQ3ZV8T4M5N6P7Q8R9S0T1V2"),
            list(stacks),
            list(&["read", "write"]),
        ];
        if !options.is_empty() {
            args.push(Value::Map(
                options
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::string(*v)))
                    .collect(),
            ));
        }
        TrustPolicyDocumentFunction.call(&args)
    }

    #[test]
    fn stack_major_order() {
        let v = call(&["a", "b"], &[]).unwrap();
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

    #[test]
    fn too_long_in_stack_scope_fits_in_integration_scope() {
        let names: Vec<String> = (0..1000)
            .map(|i| format!("prod-payments-api-{i}"))
            .collect();
        let stacks: Vec<&str> = names.iter().map(String::as_str).collect();
        let e = call(&stacks, &[]).unwrap_err();
        assert_eq!(e.argument, Some(3));
        assert!(
            e.text.contains("for 1000 stack(s), over the limit of 2048"),
            "{}",
            e.text
        );
        let scoped = call(
            &stacks,
            &[("trust_scope", "integration"), ("tag_session", "true")],
        )
        .unwrap();
        let json = scoped.as_str().unwrap();
        assert!(trust_policy::iam_length(json) < 400, "{json}");
        assert!(
            json.contains("\"StringLike\"") && json.contains("sts:TagSession"),
            "{json}"
        );
        let raised = call(&stacks[..30], &[("max_trust_policy_length", "4096")]);
        assert!(raised.is_ok(), "{raised:?}");
    }

    #[test]
    fn bad_options_name_the_option() {
        for (options, says) in [
            (vec![("trust_scope", "role")], "trust_scope is \"role\""),
            (vec![("tag_session", "yes")], "tag_session is \"yes\""),
            (vec![("max_trust_policy_length", "9000")], "from 1 to 4096"),
            (vec![("scope", "stack")], "unknown option \"scope\""),
        ] {
            let e = call(&["a"], &options).unwrap_err();
            assert_eq!(e.argument, Some(OPTIONS), "{options:?}");
            assert!(e.text.contains(says), "{options:?}: {}", e.text);
        }
    }
}

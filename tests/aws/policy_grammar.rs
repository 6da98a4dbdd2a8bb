//! A seeded generator of role trust policies for the verification corpus
//! (`corpus.rs`): statements from a grammar of IAM's policy language
//! (Allow/Deny, Principal/NotPrincipal, Action/NotAction, the string and
//! Null condition operators with their IfExists and set forms) over the
//! condition keys a confused deputy can be told apart by (`sts:ExternalId`,
//! session tags, `aws:TagKeys`, `sts:SourceIdentity`,
//! `sts:RoleSessionName`, the principal's account and ARN), with values
//! drawn from the integration's own External IDs, the same with wildcards
//! in or around each part, and other integrations', stacks', phases' and
//! accounts' IDs. Half the policies start from the statement deputy emits
//! and are mutated, so that many come close to safe; the rest are drawn
//! whole.
//!
//! The generator knows nothing of deputy's probes: it only writes policies.
//! Whether each is safe is decided by fakecloud, playing the parties.

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use crate::fakecloud::ACCOUNT;

/// What a policy is written for.
pub struct Context<'a> {
    pub account: &'a str,
    pub integration: &'a str,
    /// The stacks the case attaches, and the phases for each.
    pub stacks: &'a [(String, Vec<&'static str>)],
    pub broker: &'a str,
    /// Another principal of deputy's account that some policies name
    /// outright (trusting it is the role owner's explicit choice).
    pub named: &'a str,
    /// Integrations that exist on the broker, named by some policies.
    pub other_integrations: &'a [String],
    /// The statement deputy emits for this case (a documented safe shape).
    pub emitted: &'a Value,
}

impl Context<'_> {
    /// This case's own External IDs.
    fn own_ids(&self) -> Vec<String> {
        self.stacks
            .iter()
            .flat_map(|(stack, phases)| {
                phases
                    .iter()
                    .map(move |p| format!("{}@{}@{stack}@{p}", self.account, self.integration))
            })
            .collect()
    }
}

/// A whole trust policy.
pub fn policy(ctx: &Context<'_>, rng: &mut StdRng) -> Value {
    let statements: Vec<Value> = if rng.random_bool(0.5) {
        let mut emitted = ctx.emitted.clone();
        for _ in 0..rng.random_range(1..=2) {
            mutate(ctx, &mut emitted, rng);
        }
        let mut all = vec![emitted];
        if rng.random_bool(0.3) {
            all.push(statement(ctx, rng));
        }
        all
    } else {
        (0..rng.random_range(1..=3))
            .map(|_| statement(ctx, rng))
            .collect()
    };
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// One change to a statement that may or may not keep it safe.
fn mutate(ctx: &Context<'_>, s: &mut Value, rng: &mut StdRng) {
    let object = s.as_object_mut().expect("a statement is an object");
    match rng.random_range(0..8) {
        0 => {
            object.insert("Principal".into(), principal(ctx, rng));
        }
        1 => {
            let (op, key, values) = condition(ctx, rng);
            object
                .entry("Condition")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap()
                .entry(op)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap()
                .insert(key, values);
        }
        2 => {
            // The External ID condition under another operator.
            if let Some(cond) = object.get_mut("Condition").and_then(Value::as_object_mut) {
                let taken: Vec<(String, Value)> =
                    cond.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                cond.clear();
                for (_, v) in taken {
                    cond.insert(string_operator(rng).into(), v);
                }
            }
        }
        3 => {
            // One more value for the External ID.
            if let Some(list) = object
                .get_mut("Condition")
                .and_then(Value::as_object_mut)
                .and_then(|c| c.values_mut().next())
                .and_then(|k| k.get_mut("sts:ExternalId"))
            {
                let extra = external_id_value(ctx, rng);
                match list {
                    Value::Array(items) => items.push(extra.into()),
                    other => *other = json!([other.clone(), extra]),
                }
            }
        }
        4 => {
            object.remove("Condition");
        }
        5 => {
            object.insert("Action".into(), action(rng));
        }
        6 => {
            // The External ID values replaced by wildcarded ones.
            if let Some(list) = object
                .get_mut("Condition")
                .and_then(Value::as_object_mut)
                .and_then(|c| c.values_mut().next())
                .and_then(|k| k.get_mut("sts:ExternalId"))
            {
                let ids = ctx.own_ids();
                let id = ids.choose(rng).unwrap();
                *list = if rng.random_bool(0.5) {
                    json!([wildcard(id, rng)])
                } else {
                    // Usable by this integration, and something more.
                    let mut kept = ids.clone();
                    kept.push(external_id_value(ctx, rng));
                    json!(kept)
                };
            }
        }
        _ => {
            object.insert("Principal".into(), json!({"AWS": ctx.broker}));
        }
    }
}

fn statement(ctx: &Context<'_>, rng: &mut StdRng) -> Value {
    let mut s = serde_json::Map::new();
    s.insert(
        "Effect".into(),
        json!(if rng.random_bool(0.8) {
            "Allow"
        } else {
            "Deny"
        }),
    );
    if rng.random_bool(0.1) {
        let who = [ctx.broker, ctx.named].choose(rng).copied().unwrap();
        s.insert("NotPrincipal".into(), json!({"AWS": who}));
    } else {
        s.insert("Principal".into(), principal(ctx, rng));
    }
    if rng.random_bool(0.1) {
        s.insert(
            "NotAction".into(),
            json!(["sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"]),
        );
    } else {
        s.insert("Action".into(), action(rng));
    }
    let blocks = [0, 1, 1, 1, 2].choose(rng).copied().unwrap();
    if blocks > 0 {
        let mut cond = serde_json::Map::new();
        for _ in 0..blocks {
            let (op, key, values) = condition(ctx, rng);
            cond.entry(op)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap()
                .insert(key, values);
        }
        s.insert("Condition".into(), Value::Object(cond));
    }
    Value::Object(s)
}

fn principal(ctx: &Context<'_>, rng: &mut StdRng) -> Value {
    match rng.random_range(0..10) {
        0..=4 => json!({"AWS": ctx.broker}),
        5 => json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}),
        6 => json!({"AWS": ACCOUNT}),
        7 => json!({"AWS": "*"}),
        8 => json!("*"),
        _ => json!({"AWS": [ctx.broker, ctx.named]}),
    }
}

fn action(rng: &mut StdRng) -> Value {
    match rng.random_range(0..5) {
        0 => json!("sts:AssumeRole"),
        1 => json!(["sts:AssumeRole", "sts:TagSession"]),
        2 => json!(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]),
        3 => json!("sts:*"),
        _ => json!(["sts:AssumeRole", "sts:SetSourceIdentity"]),
    }
}

fn string_operator(rng: &mut StdRng) -> &'static str {
    [
        "StringEquals",
        "StringLike",
        "StringNotEquals",
        "StringNotLike",
        "StringEqualsIfExists",
        "StringLikeIfExists",
        "StringNotEqualsIfExists",
        "ForAnyValue:StringEquals",
        "ForAnyValue:StringLike",
        "ForAllValues:StringEquals",
        "ForAllValues:StringLike",
    ]
    .choose(rng)
    .copied()
    .unwrap()
}

/// One operator block: operator, key, values.
fn condition(ctx: &Context<'_>, rng: &mut StdRng) -> (String, String, Value) {
    if rng.random_bool(0.1) {
        let key = [
            "sts:ExternalId",
            "aws:RequestTag/deputy:stack",
            "sts:SourceIdentity",
            "aws:TagKeys",
        ]
        .choose(rng)
        .copied()
        .unwrap();
        let value = ["true", "false"].choose(rng).copied().unwrap();
        return ("Null".into(), key.into(), json!(value));
    }
    let op = string_operator(rng).to_string();
    let (stack, _) = ctx.stacks.choose(rng).unwrap();
    let (key, values): (&str, Vec<String>) = match rng.random_range(0..16) {
        0..=8 => (
            "sts:ExternalId",
            (0..rng.random_range(1..=3))
                .map(|_| external_id_value(ctx, rng))
                .collect(),
        ),
        9 => (
            "aws:RequestTag/deputy:stack",
            vec![
                [stack.as_str(), "other-stack", "*", "c*"]
                    .choose(rng)
                    .unwrap()
                    .to_string(),
            ],
        ),
        10 => (
            "aws:RequestTag/deputy:phase",
            vec![["read", "write", "*"].choose(rng).unwrap().to_string()],
        ),
        11 => (
            "aws:TagKeys",
            vec![
                ["deputy:stack", "deputy:*", "aws:*", "*"]
                    .choose(rng)
                    .unwrap()
                    .to_string(),
            ],
        ),
        12 => (
            "sts:SourceIdentity",
            vec![
                ["deputy-*", "*", "gh-*", "run-?"]
                    .choose(rng)
                    .unwrap()
                    .to_string(),
            ],
        ),
        13 => (
            "sts:RoleSessionName",
            vec![
                ["deputy-verify*", "*", "gh-*", "run-*"]
                    .choose(rng)
                    .unwrap()
                    .to_string(),
            ],
        ),
        14 => (
            "aws:PrincipalAccount",
            vec![[ACCOUNT, "999999999999"].choose(rng).unwrap().to_string()],
        ),
        _ => (
            "aws:PrincipalArn",
            vec![
                [ctx.broker.to_string(), format!("arn:aws:iam::{ACCOUNT}:*")]
                    .choose(rng)
                    .unwrap()
                    .clone(),
            ],
        ),
    };
    let values = if values.len() == 1 {
        json!(values[0])
    } else {
        json!(values)
    };
    (op, key.into(), values)
}

/// A value for an `sts:ExternalId` condition.
fn external_id_value(ctx: &Context<'_>, rng: &mut StdRng) -> String {
    let ids = ctx.own_ids();
    let own = ids.choose(rng).unwrap().clone();
    let parts: Vec<&str> = own.split('@').collect();
    let (account, integration, stack, phase) = (parts[0], parts[1], parts[2], parts[3]);
    let other_phase = if phase == "read" { "write" } else { "read" };
    match rng.random_range(0..14) {
        0..=2 => own,
        3..=5 => wildcard(&own, rng),
        // This integration's ID of the phase not attached, wildcarded:
        // a phase another integration could take on a stack.
        6 => wildcard(
            &format!("{account}@{integration}@{stack}@{other_phase}"),
            rng,
        ),
        7 => {
            let other = ctx.other_integrations.choose(rng).unwrap();
            format!("{account}@{other}@{stack}@{phase}")
        }
        8 => format!("{account}@{integration}@other-stack@{phase}"),
        9 => format!("{account}@{integration}@{stack}@{other_phase}"),
        10 => format!("globex@{integration}@{stack}@{phase}"),
        11 | 12 => [
            "*".to_string(),
            format!("{account}@*"),
            "*@read".into(),
            "*@write".into(),
            format!("{account}@*@*@read"),
            format!("{account}@*@*@write"),
            format!("{account}@*@{stack}@{phase}"),
            format!("{account}@*@{stack}@{other_phase}"),
            format!("{account}@{integration}@*"),
            format!("{account}@{integration}@*@*"),
        ]
        .choose(rng)
        .unwrap()
        .clone(),
        _ => format!("not-deputy-{}", rng.random_range(0..1000)),
    }
}

/// `id` with a wildcard in or around one part, sometimes two.
fn wildcard(id: &str, rng: &mut StdRng) -> String {
    let once = wildcard_part(id, rng);
    if rng.random_bool(0.5) {
        wildcard_part(&once, rng)
    } else {
        once
    }
}

fn wildcard_part(id: &str, rng: &mut StdRng) -> String {
    let mut parts: Vec<String> = id.split('@').map(str::to_string).collect();
    let k = rng.random_range(0..parts.len());
    let part = parts[k].clone();
    let j = rng.random_range(0..=part.len());
    parts[k] = match rng.random_range(0..7) {
        0 => "*".into(),
        1 => format!("{}*", &part[..j]),
        2 => format!("*{}", &part[j..]),
        3 if j < part.len() => format!("{}?{}", &part[..j], &part[j + 1..]),
        4 => format!("*{part}*"),
        5 => format!("{part}*"),
        6 => "?".repeat(part.len()),
        _ => format!("{}*{}", &part[..j / 2], &part[j..]),
    };
    if rng.random_bool(0.1) {
        // Everything after the part is a wildcard too.
        parts.truncate(k + 1);
        return format!("{}*", parts.join("@"));
    }
    parts.join("@")
}

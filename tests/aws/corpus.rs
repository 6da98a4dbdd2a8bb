//! Verification as a proof, on a corpus: thousands of generated trust
//! policies (`policy_grammar.rs`), each a role in fakecloud, crossed with
//! integration settings (scope, session tags, SourceIdentity, phases, one
//! or two stacks). Each is attached through a real broker, which verifies
//! it with its derived probes and its canary. Then, for every role the
//! broker accepted, the test plays every party that could reach the role
//! straight against fakecloud, in every form a vend could take (plain, with
//! session tags and SourceIdentity, under a run's session name and under
//! verification's own):
//! - another integration registered on the same broker after the policy
//!   was written, for every stack and phase. Where fakecloud lets one in,
//!   the party tries the only way it has through deputy: attaching its own
//!   stack to its integration (in either scope), which must fail
//!   verification. A stack's phase held by the victim cannot be attached
//!   by anyone else, so those are counted, not tried;
//! - another deputy account's External IDs for this integration; in stack
//!   scope, this integration's External ID of a stack that is not
//!   attached; no External ID, and one of no deputy shape. None of these
//!   has a way through deputy but its own verification, whose calls take
//!   the verification's session-name and SourceIdentity shape (no caller
//!   chooses it): admitted in that shape is a breach; admitted only under a
//!   run id of the caller's choosing is counted, since such a party's
//!   verification is refused;
//! - another principal of deputy's own account (not the canary, and named
//!   by no policy) holding the right External IDs: admitted in any form is
//!   a breach.
//!
//! Any breach is an unsafe accept and fails the test, with the policy. The statement deputy emits for a case
//! (a documented safe shape) is used as is for some cases and must be
//! accepted.
//!
//! `DEPUTY_CORPUS_POLICIES` (default 2,000) and `DEPUTY_CORPUS_SEED`
//! (default 23) set the size and the seed; the ignored test
//! `corpus_of_50000_policies` is the long run.

use std::collections::BTreeSet;
use std::time::Instant;

use futures::StreamExt as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use deputy::client::{Client, ClientError};
use deputy::model::integration::TrustScope;
use deputy::model::trust_policy::{Accepted, Actions, statement_json};
use deputy::model::{Phase, StackId};
use deputy::wire::{AttachmentInput, Integration, IntegrationInput, StackInput};

use crate::broker::Broker;
use crate::fakecloud::{ACCOUNT, AccessKey, Fakecloud, trust, xml_field};
use crate::policy_grammar::{self, Context};

/// Everything the cases share.
struct World {
    fc: Fakecloud,
    /// Held for its process: dropping it stops the broker.
    _broker: Broker,
    admin: Client,
    /// The broker's own IAM user: parties through deputy act as it.
    deputy: AccessKey,
    /// Another principal of deputy's account, not the canary, that no
    /// policy names.
    intruder: AccessKey,
    /// One that some policies name outright.
    named: AccessKey,
    other_integrations: Vec<String>,
}

/// What one case found.
#[derive(Default)]
struct Outcome {
    created: bool,
    documented: bool,
    /// Attachments accepted and refused.
    accepted: usize,
    refused: usize,
    /// Unsafe accepts, each with what got in.
    breaches: Vec<String>,
    /// A documented safe shape refused, with the broker's reason.
    safe_refused: Option<String>,
    /// Ground-truth calls, escalations through the broker, parties that
    /// fakecloud let in but that would need a phase the victim holds.
    calls: u32,
    escalations: u32,
    held: u32,
    /// Parties admitted only under run ids of their choosing, never in the
    /// shape their own verification's calls take (so never verified).
    run_id_only: u32,
    /// Answers that were neither a session nor AccessDenied.
    errors: Vec<String>,
    policy: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn generated_trust_policies_are_accepted_only_when_nobody_else_gets_in() {
    let n = std::env::var("DEPUTY_CORPUS_POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    corpus(n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the long run: about 25 times the CI corpus"]
async fn corpus_of_50000_policies() {
    corpus(50_000).await;
}

/// Cases per emulator and broker.
const SHARD: usize = 250;

async fn corpus(n: usize) {
    let seed: u64 = std::env::var("DEPUTY_CORPUS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(23);
    let started = Instant::now();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(n);
    // A fresh emulator and broker every SHARD cases: fakecloud's cost per
    // call grows with the roles it holds, and would make the run quadratic.
    for first in (0..n).step_by(SHARD) {
        let world = world().await;
        let shard: Vec<Outcome> = futures::stream::iter(first..n.min(first + SHARD))
            .map(|i| case(&world, i, seed))
            .buffer_unordered(8)
            .collect()
            .await;
        outcomes.extend(shard);
    }
    let elapsed = started.elapsed();
    let count = |f: &dyn Fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let created = count(&|o| o.created);
    let accepted = count(&|o| o.accepted > 0);
    let refused = count(&|o| o.created && o.accepted == 0);
    let documented = count(&|o| o.documented);
    let calls: u32 = outcomes.iter().map(|o| o.calls).sum();
    let escalations: u32 = outcomes.iter().map(|o| o.escalations).sum();
    let held: u32 = outcomes.iter().map(|o| o.held).sum();
    let run_id_only: u32 = outcomes.iter().map(|o| o.run_id_only).sum();
    let breaches: Vec<&Outcome> = outcomes.iter().filter(|o| !o.breaches.is_empty()).collect();
    let safe_refused: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.safe_refused.is_some())
        .collect();
    let errors: Vec<&String> = outcomes.iter().flat_map(|o| &o.errors).collect();
    println!(
        "verification corpus (seed {seed}): {n} policies generated, {created} created in fakecloud \
         ({} refused by IAM), {accepted} accepted by the broker, {refused} refused; {documented} \
         documented safe shapes, {} refused; unsafe accepted: {}; ground truth: {calls} direct \
         AssumeRole calls, {escalations} escalations through the broker, {held} admitted only for \
         a phase the victim holds, {run_id_only} only under run ids no verification uses; {:.1} s",
        n - created,
        safe_refused.len(),
        breaches.len(),
        elapsed.as_secs_f64()
    );
    let show = |o: &&Outcome, what: &str| format!("{what}\npolicy: {}", o.policy);
    assert!(
        breaches.is_empty(),
        "roles accepted that let another party in:\n{}",
        breaches
            .iter()
            .take(5)
            .map(|o| show(o, &o.breaches.join("\n")))
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    assert!(
        safe_refused.is_empty(),
        "documented safe shapes refused:\n{}",
        safe_refused
            .iter()
            .take(5)
            .map(|o| show(o, o.safe_refused.as_deref().unwrap()))
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    assert!(
        errors.is_empty(),
        "unexpected STS answers: {:?}",
        &errors[..errors.len().min(5)]
    );
    assert!(
        accepted * 10 >= n && refused * 10 >= n,
        "a corpus that tells nothing: {accepted} accepted, {refused} refused of {n}"
    );
}

async fn world() -> World {
    let fc = Fakecloud::start();
    let deputy = fc.user("deputy-broker").await;
    let intruder = fc.user("neighbour-service").await;
    let named = fc.user("ci-runner").await;
    // The canary: trusts the broker's principal, and would have no rights
    // but sts:AssumeRole (fakecloud does not evaluate identity policies by
    // default, so none is attached here).
    let canary = fc
        .role("deputy-canary", &trust(&deputy.arn, json!({})))
        .await
        .unwrap();
    let broker = Broker::start(
        &fc,
        &deputy,
        &[
            "--canary-role-arn",
            &canary,
            // fakecloud's roles are assumable at once: a denied
            // confirmation is final.
            "--verify-retry-seconds",
            "0",
            "--reverify-interval",
            "0",
        ],
    )
    .await;
    let admin = broker.admin();
    let mut other_integrations = Vec::new();
    for k in 0..3 {
        let other = admin
            .create_integration(&IntegrationInput {
                name: format!("other-{k}"),
                role_arn: format!("arn:aws:iam::{ACCOUNT}:role/other-{k}"),
                ..Default::default()
            })
            .await
            .unwrap();
        other_integrations.push(other.id.to_string());
    }
    World {
        fc,
        _broker: broker,
        admin,
        deputy,
        intruder,
        named,
        other_integrations,
    }
}

async fn case(w: &World, i: usize, seed: u64) -> Outcome {
    let mut rng = StdRng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let scope = if rng.random_bool(0.3) {
        TrustScope::Integration
    } else {
        TrustScope::Stack
    };
    let tag_session = rng.random_bool(0.4);
    let set_source_identity = rng.random_bool(0.3);
    let phases: Vec<&'static str> = match rng.random_range(0..3) {
        0 => vec!["read"],
        1 => vec!["write"],
        _ => vec!["read", "write"],
    };
    let stacks: Vec<(String, Vec<&'static str>)> = (0..if rng.random_bool(0.2) { 2 } else { 1 })
        .map(|k| (format!("c{i}-{k}"), phases.clone()))
        .collect();
    for (stack, _) in &stacks {
        w.admin
            .create_stack(&StackInput::with_id(stack))
            .await
            .unwrap();
    }
    let role = format!("corpus-{i}");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/{role}");
    let integration = w
        .admin
        .create_integration(&IntegrationInput {
            name: role.clone(),
            role_arn: role_arn.clone(),
            tag_session,
            set_source_identity,
            trust_scope: Some(scope.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let targets: Vec<(StackId, Vec<Phase>)> = stacks
        .iter()
        .map(|(s, ps)| {
            (
                s.parse().unwrap(),
                ps.iter().map(|p| p.parse().unwrap()).collect(),
            )
        })
        .collect();
    let emitted: Value = serde_json::from_str(&statement_json(
        &w.deputy.arn.parse().unwrap(),
        &Accepted::for_stacks(
            scope,
            &"acme".parse().unwrap(),
            &integration.id,
            None,
            &targets,
        ),
        Actions {
            tag_session,
            set_source_identity,
        },
    ))
    .unwrap();
    let mut out = Outcome {
        documented: rng.random_bool(0.15),
        ..Default::default()
    };
    let policy = if out.documented {
        json!({"Version": "2012-10-17", "Statement": [emitted]})
    } else {
        policy_grammar::policy(
            &Context {
                account: "acme",
                integration: integration.id.as_str(),
                stacks: &stacks,
                broker: &w.deputy.arn,
                named: &w.named.arn,
                other_integrations: &w.other_integrations,
                emitted: &emitted,
            },
            &mut rng,
        )
    };
    out.policy = policy.to_string();
    if w.fc.role(&role, &policy).await.is_err() {
        return out;
    }
    out.created = true;
    let mut accepted = Vec::new();
    for (stack, phases) in &stacks {
        match attach(&w.admin, integration.id.as_str(), stack, phases).await {
            Ok(()) => {
                out.accepted += 1;
                accepted.push((stack.clone(), phases.clone()));
            }
            Err(why) => {
                out.refused += 1;
                if out.documented {
                    out.safe_refused = Some(why);
                }
            }
        }
    }
    if !accepted.is_empty() {
        ground_truth(w, i, &integration, scope, &accepted, &mut out).await;
    }
    out
}

async fn attach(
    admin: &Client,
    integration: &str,
    stack: &str,
    phases: &[&str],
) -> Result<(), String> {
    match admin
        .attach(
            integration,
            &AttachmentInput {
                stack_id: stack.into(),
                read: phases.contains(&"read"),
                write: phases.contains(&"write"),
            },
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(ClientError::Problem(p)) => Err(p.detail),
        Err(e) => panic!("attach {integration} to {stack}: {e}"),
    }
}

/// Plays every party that could reach the accepted role.
async fn ground_truth(
    w: &World,
    i: usize,
    integration: &Integration,
    scope: TrustScope,
    accepted: &[(String, Vec<&'static str>)],
    out: &mut Outcome,
) {
    let role_arn = integration.role_arn.to_string();
    let id = integration.id.as_str();
    let held: BTreeSet<(String, &str)> = accepted
        .iter()
        .flat_map(|(s, ps)| ps.iter().map(move |p| (s.clone(), *p)))
        .collect();
    let in_use: BTreeSet<&str> = held.iter().map(|(_, p)| *p).collect();
    let fresh_stack = format!("c{i}-z");

    // Another integration, registered after the policy was written.
    let party = w
        .admin
        .create_integration(&IntegrationInput {
            name: format!("corpus-{i}-party"),
            role_arn: role_arn.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut stacks: Vec<String> = accepted.iter().map(|(s, _)| s.clone()).collect();
    stacks.push(fresh_stack.clone());
    for stack in &stacks {
        for phase in ["read", "write"] {
            let external_id = format!("acme@{}@{stack}@{phase}", party.id);
            let forms = admitted(
                w,
                out,
                &w.deputy,
                &role_arn,
                Some(&external_id),
                stack,
                phase,
            )
            .await;
            let Some(form) = forms.first() else {
                continue;
            };
            if held.contains(&(stack.clone(), phase)) {
                out.held += 1;
                continue;
            }
            out.escalations += 1;
            if let Some(how) = escalate(w, &party, stack, phase, &fresh_stack).await {
                out.breaches.push(format!(
                    "another integration ({}) got credentials for {stack}'s {phase} phase through \
                     deputy ({how}); fakecloud let it in {}",
                    party.id,
                    form.describe()
                ));
            }
        }
    }
    // Parties with no way through deputy but their own verification, whose
    // calls have the verification's shape (another deputy account on the
    // same principal, an unattached stack of this integration, a worker's
    // custom ID of no deputy shape; deputy never sends no External ID, so
    // that one is a stand-in for the condition being there): a breach when
    // admitted in that shape. And one with no way through deputy at all,
    // another principal of deputy's account: a breach when admitted in any
    // form.
    let mut outright: Vec<(Option<String>, String, &str, &AccessKey, String)> = Vec::new();
    for (stack, phases) in accepted {
        for phase in phases {
            for account in ["acme2", "xacme"] {
                outright.push((
                    Some(format!("{account}@{id}@{stack}@{phase}")),
                    stack.clone(),
                    phase,
                    &w.deputy,
                    format!("another deputy account ({account})"),
                ));
            }
            outright.push((
                Some(format!("acme@{id}@{stack}@{phase}")),
                stack.clone(),
                phase,
                &w.intruder,
                "another principal of deputy's account, with the right External ID".into(),
            ));
        }
    }
    if scope == TrustScope::Stack {
        for phase in &in_use {
            outright.push((
                Some(format!("acme@{id}@{fresh_stack}@{phase}")),
                fresh_stack.clone(),
                phase,
                &w.deputy,
                "a stack of this integration that is not attached, in stack scope".into(),
            ));
        }
    }
    let (stack, phase) = held.iter().next().unwrap();
    outright.push((
        None,
        stack.clone(),
        phase,
        &w.deputy,
        "no External ID".into(),
    ));
    outright.push((
        Some("not-a-deputy-id".into()),
        stack.clone(),
        phase,
        &w.deputy,
        "an External ID of no deputy shape".into(),
    ));
    for (external_id, stack, phase, who, what) in outright {
        let forms = admitted(
            w,
            out,
            who,
            &role_arn,
            external_id.as_deref(),
            &stack,
            phase,
        )
        .await;
        let outsider = who.arn == w.intruder.arn;
        match forms.iter().find(|f| outsider || f.verification_shaped()) {
            Some(form) => out.breaches.push(format!(
                "{what} got in: External ID {external_id:?}, {}",
                form.describe()
            )),
            None if !forms.is_empty() => out.run_id_only += 1,
            None => {}
        }
    }
}

/// One way a vend could be sent: a run id of the caller's choosing, or the
/// shape of a verification's own calls (which no caller chooses); plain,
/// or with session tags and a SourceIdentity.
#[derive(Clone, Copy, Debug)]
struct Form {
    session: &'static str,
    tagged: bool,
}

impl Form {
    const ALL: [Form; 4] = [
        Form {
            session: "gh-1234",
            tagged: false,
        },
        Form {
            session: "gh-1234",
            tagged: true,
        },
        Form {
            session: "deputy-verify-0123456789abcdef",
            tagged: false,
        },
        Form {
            session: "deputy-verify-0123456789abcdef",
            tagged: true,
        },
    ];

    /// The session-name and SourceIdentity shape of a verification. Every
    /// party's own verification confirms its External ID in this shape, so
    /// a statement that admits none of its calls cannot admit a verified
    /// party, whatever run ids it admits.
    fn verification_shaped(self) -> bool {
        self.session.starts_with("deputy-verify-")
    }

    fn describe(self) -> String {
        format!(
            "with session name {}{}",
            self.session,
            if self.tagged {
                ", session tags and a SourceIdentity"
            } else {
                ", plain"
            }
        )
    }
}

/// The forms in which fakecloud lets `who` assume `role` with
/// `external_id` (tags naming `stack` and `phase`).
async fn admitted(
    w: &World,
    out: &mut Outcome,
    who: &AccessKey,
    role: &str,
    external_id: Option<&str>,
    stack: &str,
    phase: &str,
) -> Vec<Form> {
    let account = external_id
        .filter(|id| id.contains('@'))
        .and_then(|id| id.split('@').next())
        .unwrap_or("acme");
    let mut got_in = Vec::new();
    for form in Form::ALL {
        let mut params: Vec<(String, String)> = vec![
            ("RoleArn".into(), role.to_string()),
            ("RoleSessionName".into(), form.session.to_string()),
            ("DurationSeconds".into(), "3600".into()),
        ];
        if let Some(id) = external_id {
            params.push(("ExternalId".into(), id.to_string()));
        }
        if form.tagged {
            for (k, (key, value)) in [
                ("deputy:stack", stack),
                ("deputy:run", form.session),
                ("deputy:phase", phase),
                ("deputy:account", account),
            ]
            .into_iter()
            .enumerate()
            {
                params.push((format!("Tags.member.{}.Key", k + 1), key.into()));
                params.push((format!("Tags.member.{}.Value", k + 1), value.into()));
            }
            params.push(("SourceIdentity".into(), form.session.to_string()));
        }
        let borrowed: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        out.calls += 1;
        match w.fc.assume_as(&who.id, &borrowed).await {
            Ok(body) if xml_field(&body, "AccessKeyId").is_some() => got_in.push(form),
            Ok(body) => out
                .errors
                .push(format!("AssumeRole answered without a session: {body}")),
            Err(e) if e.starts_with("AccessDenied") => {}
            Err(e) => out
                .errors
                .push(format!("AssumeRole on {role} as {}: {e}", who.arn)),
        }
    }
    got_in
}

/// The party's way through deputy: attach its own stack's phase to its
/// integration, in stack scope and then in integration scope. How it got
/// in, when it did.
async fn escalate(
    w: &World,
    party: &Integration,
    stack: &str,
    phase: &str,
    fresh_stack: &str,
) -> Option<String> {
    if stack == fresh_stack {
        // Created on first need; an earlier escalation may have made it.
        let _ = w.admin.create_stack(&StackInput::with_id(stack)).await;
    }
    for scope in ["stack", "integration"] {
        let mut input = IntegrationInput {
            name: party.name.clone(),
            role_arn: party.role_arn.to_string(),
            trust_scope: Some(scope.into()),
            ..Default::default()
        };
        input.labels.clear();
        w.admin
            .replace_integration(party.id.as_str(), &input)
            .await
            .unwrap();
        if attach(&w.admin, party.id.as_str(), stack, &[phase])
            .await
            .is_ok()
        {
            let _ = w.admin.detach(party.id.as_str(), stack).await;
            return Some(format!("attached in {scope} scope and verified"));
        }
    }
    None
}

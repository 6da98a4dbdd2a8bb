//! What verification costs: STS calls and the wall time of one attach
//! (verification included) against fakecloud on loopback, for one and two
//! phases, without and with a canary, and, when `DEPUTY_BASELINE_BIN` names
//! a `deputy` built from an earlier commit, that build's figures measured
//! in the same run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use deputy::wire::{AttachmentInput, IntegrationInput, StackInput};
use serde_json::json;

use crate::aws_broker::Broker;
use crate::fakecloud::{ACCOUNT, Fakecloud, trust};
use crate::report::{Section, ms};

/// Attaches per configuration; the median is reported.
const ROUNDS: usize = 7;

struct Setup {
    label: String,
    binary: PathBuf,
    canary: bool,
}

pub async fn run() -> Section {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let canary = fc
        .role("deputy-canary", &trust(&user.arn, json!({})))
        .await
        .unwrap();
    let this = PathBuf::from(env!("CARGO_BIN_EXE_deputy"));
    let mut setups = Vec::new();
    if let Some(before) = std::env::var_os("DEPUTY_BASELINE_BIN") {
        setups.push(Setup {
            label: "baseline build (DEPUTY_BASELINE_BIN)".into(),
            binary: before.into(),
            canary: false,
        });
    }
    setups.push(Setup {
        label: "this build, no canary".into(),
        binary: this.clone(),
        canary: false,
    });
    setups.push(Setup {
        label: "this build, with a canary".into(),
        binary: this,
        canary: true,
    });
    let mut section = Section::new(
        "Verification",
        format!(
            "One attach of a new stack to a new integration whose role trusts the broker with \
             the stack's exact External IDs, verification included, through a real `deputy \
             serve` against fakecloud on loopback; median of {ROUNDS} attaches each. STS calls \
             are the report's count (AssumeRole and GetCallerIdentity, retries included)."
        ),
        vec!["build", "phases", "STS calls", "attach, ms (median)"],
    );
    let mut n = 0;
    for setup in &setups {
        let mut args = vec!["--verify-retry-seconds", "0", "--reverify-interval", "0"];
        if setup.canary {
            args.extend(["--canary-role-arn", canary.as_str()]);
        }
        let b = Broker::start_binary(&setup.binary, &fc, &user, &args).await;
        let admin = b.admin();
        for phases in [vec!["read"], vec!["read", "write"]] {
            let mut times = Vec::with_capacity(ROUNDS);
            let mut calls = 0;
            for _ in 0..ROUNDS {
                n += 1;
                let name = format!("v{n}");
                admin
                    .create_stack(&StackInput::with_id(&name))
                    .await
                    .unwrap();
                let i = admin
                    .create_integration(&IntegrationInput {
                        name: name.clone(),
                        role_arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                let ids: Vec<String> = phases
                    .iter()
                    .map(|p| format!("acme@{}@{name}@{p}", i.id))
                    .collect();
                fc.role(
                    &name,
                    &trust(
                        &user.arn,
                        json!({"Condition": {"StringEquals": {"sts:ExternalId": ids}}}),
                    ),
                )
                .await
                .unwrap();
                let started = Instant::now();
                admin
                    .attach(
                        &i.id,
                        &AttachmentInput {
                            stack_id: name.clone(),
                            read: phases.contains(&"read"),
                            write: phases.contains(&"write"),
                        },
                    )
                    .await
                    .unwrap();
                times.push(started.elapsed());
                calls = admin
                    .integration(&i.id)
                    .await
                    .unwrap()
                    .last_verification
                    .map(|r| r.sts_calls)
                    .unwrap_or_default();
            }
            times.sort();
            let median: Duration = times[ROUNDS / 2];
            section.row(vec![
                setup.label.clone(),
                phases.len().to_string(),
                calls.to_string(),
                ms(median),
            ]);
        }
    }
    section.notes.push(
        "The role-level probes follow from the rule in src/model/verification.rs: 18 per phase \
         in use plus 2 in stack scope, 2 more per phase with a canary, sent eight at a time \
         after the confirmations."
            .into(),
    );
    section
}

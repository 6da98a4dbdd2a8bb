//! Two `deputy serve` replicas on one PostgreSQL, as behind a load
//! balancer: concurrent attaches through both settle on one that serves, a
//! steady vend and write load spread over both survives a SIGKILL of one
//! (every request retried on the survivor succeeds, no acknowledged write
//! is lost), and periodic re-verification runs once per interval across
//! the replicas, not once per replica.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use deputy::client::{Client, ClientError};
use deputy::model::Phase;
use deputy::wire::{
    AttachmentInput, AuditFilter, CredentialsRequest, IntegrationInput, IssuedCredentials,
    ProblemCode, StackInput,
};

use crate::broker::Broker;
use crate::fakecloud::{Fakecloud, trust};

const REVERIFY_INTERVAL: Duration = Duration::from_secs(4);

/// What happened to one request of the load.
struct Outcome {
    /// When it was answered, since the start of the load.
    done: Duration,
    /// The first attempt failed (and was retried on the other replica).
    retried: bool,
    /// A create whose first attempt died with the replica and whose retry
    /// found the stack already there: the killed replica committed it but
    /// its answer was lost. Settled, not failed, once read back.
    committed_unanswered: bool,
    succeeded: bool,
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_share_one_postgresql_and_survive_a_sigkill() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let store = crate::pg_cluster::postgres().fresh_database();
    let interval = REVERIFY_INTERVAL.as_secs().to_string();
    // The load vends far above the default per-caller rate limit.
    let flags = [
        "--verify-retry-seconds",
        "2",
        "--reverify-interval",
        &interval,
        "--credentials-rate-limit",
        "0",
    ];
    let mut a = Broker::start_on(&fc, &user, &flags, Some(store)).await;
    let b = a.replica().await;
    let (admin_a, admin_b) = (a.admin(), b.admin());

    // Racing attaches: two integrations want the same stack and phases,
    // one through each replica. Both roles are valid; one attach wins.
    admin_a
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let mut integrations = Vec::new();
    for name in ["first", "second"] {
        let i = admin_a
            .create_integration(&IntegrationInput {
                name: name.into(),
                role_arn: format!("arn:aws:iam::123456789012:role/{name}"),
                ..Default::default()
            })
            .await
            .unwrap();
        let ids: Vec<String> = ["read", "write"]
            .iter()
            .map(|p| format!("acme@{}@net@{p}", i.id))
            .collect();
        fc.role(
            name,
            &trust(
                &user.arn,
                json!({"Condition": {"StringEquals": {"sts:ExternalId": ids}}}),
            ),
        )
        .await
        .unwrap();
        integrations.push(i);
    }
    let both = AttachmentInput {
        stack_id: "net".into(),
        read: true,
        write: true,
    };
    let (ra, rb) = tokio::join!(
        admin_a.attach(&integrations[0].id, &both),
        admin_b.attach(&integrations[1].id, &both)
    );
    // Exactly one serves the stack's phases; the other either waits to
    // take them over (make-before-break) or, when it lost the race before
    // the first committed, is refused with 409.
    let serving: Vec<usize> = [&ra, &rb]
        .iter()
        .enumerate()
        .filter(|(_, r)| r.as_ref().is_ok_and(|a| a.pending_handover.is_empty()))
        .map(|(n, _)| n)
        .collect();
    let [served] = serving[..] else {
        panic!("exactly one attach serves: {ra:?} / {rb:?}")
    };
    let other = if served == 0 { &rb } else { &ra };
    let winner = &integrations[served];
    match other {
        Ok(waiting) => {
            assert_eq!(
                waiting.pending_handover.values().collect::<Vec<_>>(),
                [&winner.id, &winner.id],
                "{waiting:?}"
            );
            admin_a
                .detach(waiting.integration_id.as_str(), "net")
                .await
                .unwrap();
        }
        Err(e) => assert_eq!(e.status(), Some(409), "{e:?}"),
    }
    for admin in [&admin_a, &admin_b] {
        let attached: Vec<String> = admin
            .attachments_of_stack("net")
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.integration_id.to_string())
            .collect();
        assert_eq!(attached, [winner.id.to_string()], "both replicas agree");
    }

    // The load: vends and stack creations, alternating between replicas;
    // a request that fails for want of a replica is retried on the other.
    let token = admin_a
        .create_key(&deputy::wire::ApiKeyInput::runner("net", &Phase::ALL))
        .await
        .unwrap()
        .token;
    let runners = [
        a.client(&token, Duration::from_secs(10)),
        b.client(&token, Duration::from_secs(10)),
    ];
    let admins = [admin_a.clone(), admin_b.clone()];
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (runners, admins) = (runners.clone(), admins.clone());
        let (stop, outcomes, acked, next) =
            (stop.clone(), outcomes.clone(), acked.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let first = next.fetch_add(1, Ordering::SeqCst) % 2;
                let writes = w == 0;
                let id = format!("load-{n}");
                n += 1;
                let attempt = |replica: usize| {
                    let (runner, admin, id) = (
                        runners[replica].clone(),
                        admins[replica].clone(),
                        id.clone(),
                    );
                    async move {
                        if writes {
                            admin
                                .create_stack(&StackInput::with_id(&id))
                                .await
                                .map(|_| ())
                        } else {
                            vend(&runner).await
                        }
                    }
                };
                let (retried, mut result) = match attempt(first).await {
                    Err(e) if unreachable(&e) => (true, attempt(1 - first).await),
                    done => (false, done),
                };
                // A create is not idempotent: when the kill lands between
                // its commit and its answer, the retry meets the stack.
                // The client settles that by reading it back, as Terraform
                // users would by importing it.
                let mut committed_unanswered = false;
                if writes
                    && retried
                    && let Err(e) = &result
                    && e.code() == Some(ProblemCode::StackExists)
                    && admins[1 - first].stack(&id).await.is_ok()
                {
                    committed_unanswered = true;
                    result = Ok(());
                }
                if writes && result.is_ok() {
                    acked.lock().unwrap().push(id);
                }
                if let Err(e) = &result {
                    eprintln!("request failed after any retry: {e}");
                }
                outcomes.lock().unwrap().push(Outcome {
                    done: started.elapsed(),
                    retried,
                    committed_unanswered,
                    succeeded: result.is_ok(),
                });
            }
        }));
    }

    // Both replicas serve for two re-verification intervals and more.
    tokio::time::sleep(REVERIFY_INTERVAL * 2 + Duration::from_secs(3)).await;
    let killed_at = started.elapsed();
    a.kill().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }

    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    // Answered before the kill, and the rest (in flight at the kill or
    // sent after it).
    let before: Vec<&Outcome> = outcomes.iter().filter(|o| o.done < killed_at).collect();
    let after: Vec<&Outcome> = outcomes.iter().filter(|o| o.done >= killed_at).collect();
    let failed = |set: &[&Outcome]| set.iter().filter(|o| !o.succeeded).count();
    let retried = |set: &[&Outcome]| set.iter().filter(|o| o.retried).count();
    let first_survivor_ok = after
        .iter()
        .filter(|o| o.retried && o.succeeded)
        .map(|o| o.done.saturating_sub(killed_at))
        .min();
    let acked = acked.lock().unwrap().clone();
    let present: std::collections::HashSet<String> = admin_b
        .stacks()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    let lost_writes: Vec<&String> = acked.iter().filter(|id| !present.contains(*id)).collect();
    println!(
        "two replicas on PostgreSQL: {} requests ({} writes acknowledged); before SIGKILL: {} \
         requests, {} failed; after: {} requests, {} failed on the killed replica and were \
         retried ({} of them creates committed before the kill whose answer was lost), {} \
         failed after retry; first retry served by the survivor {:?} after the kill; \
         acknowledged writes lost: {}",
        outcomes.len(),
        acked.len(),
        before.len(),
        failed(&before),
        after.len(),
        retried(&after),
        after.iter().filter(|o| o.committed_unanswered).count(),
        failed(&after),
        first_survivor_ok,
        lost_writes.len(),
    );
    assert!(before.len() > 20 && after.len() > 20, "a steady load");
    assert_eq!(failed(&before), 0, "both replicas serve");
    assert_eq!(
        retried(&before),
        0,
        "no request needed a retry before the kill"
    );
    assert!(retried(&after) > 0, "the killed replica was being used");
    assert_eq!(failed(&after), 0, "every retry on the survivor succeeds");
    assert!(lost_writes.is_empty(), "{lost_writes:?}");

    // Re-verification ran once per interval across both replicas: no two
    // runs for the integration closer than the interval.
    let runs: Vec<time::OffsetDateTime> = admin_b
        .audit(&AuditFilter {
            action: Some("integration.reverify".into()),
            target: Some(format!("integration/{}", winner.id)),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|e| {
            time::OffsetDateTime::parse(&e.at, &time::format_description::well_known::Rfc3339)
                .unwrap()
        })
        .collect();
    let mut sorted = runs.clone();
    sorted.sort();
    println!(
        "re-verification with --reverify-interval {REVERIFY_INTERVAL:?} on two replicas: {} runs \
         in {:?}, at {:?}",
        sorted.len(),
        started.elapsed(),
        sorted.windows(2).map(|p| p[1] - p[0]).collect::<Vec<_>>()
    );
    assert!(runs.len() >= 2, "re-verified while both ran: {runs:?}");
    for pair in sorted.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= time::Duration::try_from(REVERIFY_INTERVAL).unwrap()
                - time::Duration::milliseconds(500),
            "two re-verifications {gap} apart, under the {REVERIFY_INTERVAL:?} interval: {sorted:?}"
        );
    }
}

/// Vends with a runner client, discarding the credentials.
async fn vend(runner: &Client) -> Result<(), ClientError> {
    match runner
        .credentials(&CredentialsRequest {
            stack_id: Some("net".into()),
            phase: Phase::Read,
            run_id: "load".into(),
        })
        .await?
    {
        IssuedCredentials::Broker(_) => Ok(()),
        IssuedCredentials::Worker(_) => panic!("broker mode expected"),
    }
}

/// The replica is gone (refused or reset), as opposed to an answer.
fn unreachable(e: &ClientError) -> bool {
    matches!(e, ClientError::Transport { .. })
}

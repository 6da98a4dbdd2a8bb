//! Every route's happy path and its errors, with exact statuses and codes.

use std::collections::BTreeMap;

use deputy::client::ClientError;
use deputy::model::Phase;
use deputy::wire::*;

use crate::support::{PRINCIPAL, ROLE, TestBroker};
use testkit::on_both;

fn code(e: ClientError) -> (u16, String, Option<String>) {
    match e {
        ClientError::Problem(p) => (p.status, p.code.to_string(), p.field),
        other => panic!("expected a problem, got {other}"),
    }
}

fn stack(id: &str) -> StackInput {
    StackInput {
        id: id.into(),
        ..Default::default()
    }
}

fn integration(name: &str) -> IntegrationInput {
    IntegrationInput {
        name: name.into(),
        role_arn: ROLE.into(),
        ..Default::default()
    }
}

on_both!(stacks, |backend| async move {
    let b = TestBroker::start(backend).await;
    let c = b.admin();
    let s = c.create_stack(&stack("net")).await.unwrap();
    assert_eq!((s.name.as_str(), s.space.as_str()), ("net", "root"));
    assert_eq!(
        code(c.create_stack(&stack("net")).await.unwrap_err()),
        (409, "stack_exists".into(), None)
    );
    assert_eq!(
        code(c.create_stack(&stack("Bad Id")).await.unwrap_err()),
        (422, "invalid_field".into(), Some("id".into()))
    );
    assert_eq!(
        code(c.create_stack(&StackInput::default()).await.unwrap_err()),
        (422, "invalid_field".into(), Some("id".into()))
    );
    let mut input = stack("net");
    input.name = Some("Network".into());
    input.labels.insert("team".into(), "infra".into());
    let replaced = c.replace_stack("net", &input).await.unwrap();
    assert_eq!(replaced.name, "Network");
    assert_eq!(replaced.labels["team"], "infra");
    assert_eq!(replaced.created_at, s.created_at);
    assert_eq!(
        code(c.replace_stack("net", &stack("other")).await.unwrap_err()),
        (422, "invalid_field".into(), Some("id".into()))
    );
    assert_eq!(
        code(c.replace_stack("nope", &stack("nope")).await.unwrap_err()).0,
        404
    );
    assert_eq!(c.stacks().await.unwrap().len(), 1);
    c.delete_stack("net").await.unwrap();
    assert_eq!(
        code(c.stack("net").await.unwrap_err()),
        (404, "not_found".into(), None)
    );
    assert_eq!(code(c.delete_stack("net").await.unwrap_err()).0, 404);
});

on_both!(integrations, |backend| async move {
    let b = TestBroker::start(backend).await;
    let c = b.admin();
    let i = c.create_integration(&integration("prod")).await.unwrap();
    assert_eq!((i.duration_seconds, i.region.as_str()), (3600, "us-east-1"));
    assert_eq!(i.id.len(), 26);
    let cases: Vec<(IntegrationInput, &str)> = vec![
        (
            IntegrationInput {
                role_arn: "arn:aws:iam::1:role/x".into(),
                ..integration("a")
            },
            "role_arn",
        ),
        (
            IntegrationInput {
                duration_seconds: Some(899),
                ..integration("a")
            },
            "duration_seconds",
        ),
        (
            IntegrationInput {
                duration_seconds: Some(43201),
                ..integration("a")
            },
            "duration_seconds",
        ),
        (
            IntegrationInput {
                external_id: Some("custom-id".into()),
                ..integration("a")
            },
            "external_id",
        ),
        (
            IntegrationInput {
                region: Some("Mars".into()),
                ..integration("a")
            },
            "region",
        ),
        (integration(""), "name"),
    ];
    for (input, field) in cases {
        assert_eq!(
            code(c.create_integration(&input).await.unwrap_err()),
            (422, "invalid_field".into(), Some(field.into()))
        );
    }
    let worker = IntegrationInput {
        generate_credentials_in_worker: true,
        external_id: Some("custom-id".into()),
        ..integration("worker")
    };
    assert_eq!(
        c.create_integration(&worker)
            .await
            .unwrap()
            .external_id
            .as_deref(),
        Some("custom-id")
    );
    assert_eq!(
        code(
            c.create_integration(&integration("prod"))
                .await
                .unwrap_err()
        ),
        (409, "integration_name_taken".into(), None)
    );
    assert_eq!(c.integration_by_name("prod").await.unwrap().id, i.id);
    assert_eq!(
        code(c.integration_by_name("none").await.unwrap_err()).0,
        404
    );
    let mut labeled = integration("labeled");
    labeled.labels.insert("team".into(), "net".into());
    labeled
        .labels
        .insert("owners".into(), "net, ops = 1 & 2".into());
    labeled.space = Some("blue".into());
    // A space is one of the tree's: named before it exists, it is refused.
    assert_eq!(
        code(c.create_integration(&labeled).await.unwrap_err()),
        (422, "invalid_field".into(), Some("space".into()))
    );
    c.create_space(&SpaceInput {
        id: "blue".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.create_integration(&labeled).await.unwrap();
    let team: Labels = [("team".to_string(), "net".to_string())].into();
    let found = c.integrations(None, &team).await.unwrap();
    assert_eq!(
        found.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ["labeled"]
    );
    // Label values with `,`, `=`, `&` and spaces filter as they are.
    let odd: Labels = [("owners".to_string(), "net, ops = 1 & 2".to_string())].into();
    let found = c.integrations(None, &odd).await.unwrap();
    assert_eq!(found.len(), 1);
    let near: Labels = [("owners".to_string(), "net, ops = 1".to_string())].into();
    assert!(c.integrations(None, &near).await.unwrap().is_empty());
    assert_eq!(
        c.integrations(Some("blue"), &Labels::new())
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(c.integrations(None, &Labels::new()).await.unwrap().len(), 3);
    let updated = c
        .replace_integration(
            &i.id,
            &IntegrationInput {
                duration_seconds: Some(7200),
                ..integration("prod-renamed")
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.duration_seconds),
        ("prod-renamed", 7200)
    );
    assert_eq!(
        code(
            c.replace_integration(&i.id, &integration("worker"))
                .await
                .unwrap_err()
        )
        .1,
        "integration_name_taken"
    );
    c.delete_integration(&i.id).await.unwrap();
    assert_eq!(code(c.integration(&i.id).await.unwrap_err()).0, 404);
});

on_both!(attachments_and_trust_policies, |backend| async move {
    let b = TestBroker::start(backend).await;
    let c = b.admin();
    for s in ["net", "app"] {
        c.create_stack(&stack(s)).await.unwrap();
    }
    let i = c.create_integration(&integration("prod")).await.unwrap();
    let other = c.create_integration(&integration("other")).await.unwrap();
    let attach = |stack_id: &str, read: bool, write: bool| AttachmentInput {
        stack_id: stack_id.into(),
        read,
        write,
    };
    let a = c.attach(&i.id, &attach("net", true, true)).await.unwrap();
    assert_eq!(a.id, format!("{}/net", i.id));
    assert_eq!(
        a.external_ids[&Phase::Read].as_str(),
        format!("acme@{}@net@read", i.id)
    );
    assert_eq!(
        a.external_ids[&Phase::Write].as_str(),
        format!("acme@{}@net@write", i.id)
    );
    assert_eq!(
        code(
            c.attach(&i.id, &attach("net", true, false))
                .await
                .unwrap_err()
        )
        .1,
        "already_attached"
    );
    // Another integration for a phase i serves: accepted, waiting for it
    // (make-before-break); a third for the same phase is refused.
    let waiting = c
        .attach(&other.id, &attach("net", false, true))
        .await
        .unwrap();
    assert_eq!(
        waiting.pending_handover,
        BTreeMap::from([(Phase::Write, i.id.clone())])
    );
    let third = c.create_integration(&integration("third")).await.unwrap();
    assert_eq!(
        code(
            c.attach(&third.id, &attach("net", false, true))
                .await
                .unwrap_err()
        ),
        (409, "phase_taken".into(), None)
    );
    c.detach(&other.id, "net").await.unwrap();
    assert_eq!(
        code(
            c.attach(&i.id, &attach("app", false, false))
                .await
                .unwrap_err()
        ),
        (422, "invalid_field".into(), Some("read".into()))
    );
    assert_eq!(
        code(
            c.attach(&i.id, &attach("ghost", true, true))
                .await
                .unwrap_err()
        ),
        (422, "invalid_field".into(), Some("stack_id".into()))
    );
    assert_eq!(
        code(
            c.attach("01JQ3ZV8T4M5N6P7Q8R9S0T1V2", &attach("net", true, true))
                .await
                .unwrap_err()
        )
        .0,
        404
    );
    c.attach(&i.id, &attach("app", false, true)).await.unwrap();

    // Read-only on net frees its write phase for the other integration.
    let narrowed = c
        .update_attachment(
            &i.id,
            "net",
            &AttachmentUpdate {
                read: true,
                write: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        narrowed.external_ids.keys().copied().collect::<Vec<_>>(),
        [Phase::Read]
    );
    c.attach(&other.id, &attach("net", false, true))
        .await
        .unwrap();
    // Widening i into the phase other now serves: i waits for it.
    let widened = c
        .update_attachment(
            &i.id,
            "net",
            &AttachmentUpdate {
                read: true,
                write: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        widened.pending_handover,
        BTreeMap::from([(Phase::Write, other.id.clone())])
    );
    c.update_attachment(
        &i.id,
        "net",
        &AttachmentUpdate {
            read: true,
            write: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(c.attachments_of_integration(&i.id).await.unwrap().len(), 2);
    assert_eq!(c.attachments_of_stack("net").await.unwrap().len(), 2);
    assert!(c.attachment(&i.id, "app").await.unwrap().write);

    let ids = c
        .external_ids(&i.id, "net", &[Phase::Read, Phase::Write])
        .await
        .unwrap();
    assert_eq!(
        ids.assume_role_policy_statement,
        format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{PRINCIPAL}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":["acme@{0}@net@read","acme@{0}@net@write"]}}}}}}"#,
            i.id
        )
    );
    let policy = c.trust_policy(&i.id).await.unwrap();
    assert_eq!(
        policy
            .external_ids
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>(),
        [
            format!("acme@{}@app@write", i.id),
            format!("acme@{}@net@read", i.id)
        ]
    );
    assert_eq!(
        policy.document,
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{PRINCIPAL}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":["acme@{0}@app@write","acme@{0}@net@read"]}}}}}}]}}"#,
            i.id
        )
    );

    let (status, code_, _) = code(c.delete_integration(&i.id).await.unwrap_err());
    assert_eq!(
        (status, code_.as_str()),
        (409, "integration_has_attachments")
    );
    let err = c.delete_stack("net").await.unwrap_err().to_string();
    assert!(
        err.contains(i.id.as_str()) && err.contains(other.id.as_str()),
        "names both integrations: {err}"
    );
    c.detach(&i.id, "net").await.unwrap();
    c.detach(&i.id, "app").await.unwrap();
    assert_eq!(code(c.detach(&i.id, "app").await.unwrap_err()).0, 404);
    c.delete_integration(&i.id).await.unwrap();
    assert_eq!(
        c.account().await.unwrap().aws_principal_arn.as_str(),
        PRINCIPAL
    );
});

on_both!(keys_and_audit, |backend| async move {
    let b = TestBroker::start(backend).await;
    let c = b.admin();
    c.create_stack(&stack("net")).await.unwrap();
    let runner = c
        .create_key(&ApiKeyInput {
            role: KeyRole::Runner,
            space_id: None,
            stack_id: Some("net".into()),
            phases: Some(vec![Phase::Read]),
            description: "ci".into(),
            expires_in_seconds: None,
        })
        .await
        .unwrap();
    assert!(runner.token.starts_with(&format!("dpk_{}_", runner.key.id)));
    let listed = c.keys().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        !serde_json::to_string(&listed)
            .unwrap()
            .contains(&runner.token[21..]),
        "no secret in listings"
    );
    let bad = ApiKeyInput {
        role: KeyRole::Runner,
        space_id: None,
        stack_id: Some("ghost".into()),
        phases: None,
        description: String::new(),
        expires_in_seconds: None,
    };
    assert_eq!(
        code(c.create_key(&bad).await.unwrap_err()),
        (422, "invalid_field".into(), Some("stack_id".into()))
    );
    // No silent default to both phases: a key that may write is asked for.
    for phases in [None, Some(vec![])] {
        let unscoped = ApiKeyInput {
            phases,
            ..ApiKeyInput::runner("net", &[])
        };
        assert_eq!(
            code(c.create_key(&unscoped).await.unwrap_err()),
            (422, "invalid_field".into(), Some("phases".into()))
        );
    }
    let revoked = c.revoke_key(&runner.key.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(
        code(c.revoke_key(&runner.key.id).await.unwrap_err()).1,
        "key_already_revoked"
    );
    assert_eq!(
        code(b.client(&runner.token).account().await.unwrap_err()).0,
        401
    );

    let events = c
        .audit(&AuditFilter {
            action: Some("key.revoke".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].outcome, "key_already_revoked");
    assert_eq!(events[1].outcome, "ok");
    assert_eq!(events[1].target, format!("key/{}", runner.key.id));
    let created = c
        .audit(&AuditFilter {
            action: Some("key.create".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.len(), 5, "{created:?}");
    assert_eq!(created[3].target, format!("key/{}", runner.key.id));
    assert!(created[..3].iter().all(|e| e.outcome == "invalid_field"));
    assert_eq!(
        created[4].key_id, None,
        "the bootstrap key's creation is audited too"
    );
    let all = c.audit(&AuditFilter::default()).await.unwrap();
    assert!(
        all.iter()
            .any(|e| e.action == "stack.create" && e.target == "stack/net")
    );
    let text = serde_json::to_string(&all).unwrap();
    assert!(
        !text.contains(&runner.token) && !text.contains(&b.admin_token),
        "no secret in audit"
    );
    if backend == crate::support::Backend::Sqlite {
        let mut db = Vec::new();
        for entry in std::fs::read_dir(b.data_dir()).unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with("deputy.db") {
                db.extend(std::fs::read(entry.path()).unwrap());
            }
        }
        let db = String::from_utf8_lossy(&db);
        assert!(db.contains(&runner.key.id), "read the database files");
        assert!(
            !db.contains(&runner.token[21..]) && !db.contains(&b.admin_token[21..]),
            "only key hashes are stored"
        );
    }
});

on_both!(
    concurrent_attachments_have_one_winner,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        let c = b.admin();
        c.create_stack(&stack("contested")).await.unwrap();
        let mut ids = Vec::new();
        for n in 0..8 {
            ids.push(
                c.create_integration(&integration(&format!("i{n}")))
                    .await
                    .unwrap()
                    .id,
            );
        }
        let racers: Vec<_> = ids
            .iter()
            .map(|id| {
                let c = c.clone();
                let id = id.clone();
                tokio::spawn(async move {
                    c.attach(
                        &id,
                        &AttachmentInput {
                            stack_id: "contested".into(),
                            read: false,
                            write: true,
                        },
                    )
                    .await
                })
            })
            .collect();
        let mut wins = 0;
        for r in racers {
            match r.await.unwrap() {
                Ok(_) => wins += 1,
                Err(e) => assert_eq!(code(e).1, "phase_taken"),
            }
        }
        // One serves stack/write; at most one more waits to take it over
        // (racers that lose on PostgreSQL before the first commits are
        // refused rather than queued).
        let attached = c.attachments_of_stack("contested").await.unwrap();
        assert!((1..=2).contains(&wins), "{wins} attachments won");
        assert_eq!(attached.len(), wins);
        assert_eq!(
            attached
                .iter()
                .filter(|a| a.pending_handover.is_empty())
                .count(),
            1,
            "exactly one attachment serves stack/write: {attached:#?}"
        );
    }
);

on_both!(errors_are_problem_details, |backend| async move {
    let b = TestBroker::start(backend).await;
    let http = reqwest::Client::new();
    let auth = format!("Bearer {}", b.admin_token);
    let bad_json = http
        .post(b.url("/v1/stacks"))
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    assert_eq!(
        bad_json.headers()["content-type"],
        "application/problem+json"
    );
    // No answer may be cached: a new key's secret is in one.
    let key = http
        .post(b.url("/v1/keys"))
        .header("authorization", &auth)
        .json(&serde_json::json!({"role": "admin", "description": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), 201);
    for answer in [&bad_json, &key] {
        assert_eq!(answer.headers()["cache-control"], "no-store");
    }
    let unknown_field = http
        .post(b.url("/v1/stacks"))
        .header("authorization", &auth)
        .json(&serde_json::json!({"id": "x", "colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_field.status(), 400);
    let missing = http
        .get(b.url("/v1/nothing"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let wrong_method = http
        .patch(b.url("/v1/stacks"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    let body: serde_json::Value = wrong_method.json().await.unwrap();
    assert_eq!(body["code"], "method_not_allowed");
    assert_eq!(
        http.get(b.url("/healthz")).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        http.get(b.url("/readyz")).send().await.unwrap().status(),
        200
    );
});

// Nobody locks themselves out: the last usable admin key cannot be
// revoked (#32), and the refusal is audited; with another admin key it can.
on_both!(last_admin_key, |backend| async move {
    let b = TestBroker::start(backend).await;
    let c = b.admin();
    let bootstrap = c
        .keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.role == KeyRole::Admin)
        .unwrap();
    let refused = code(c.revoke_key(&bootstrap.id).await.unwrap_err());
    assert_eq!((refused.0, refused.1.as_str()), (409, "last_admin_key"));
    assert!(
        c.keys()
            .await
            .unwrap()
            .iter()
            .all(|k| k.revoked_at.is_none()),
        "nothing was revoked"
    );
    let second = c
        .create_key(&ApiKeyInput {
            role: KeyRole::Admin,
            space_id: None,
            stack_id: None,
            phases: None,
            description: "named admin".into(),
            expires_in_seconds: None,
        })
        .await
        .unwrap();
    c.revoke_key(&bootstrap.id).await.unwrap();
    let as_second = b.client(&second.token);
    let last = code(as_second.revoke_key(&second.key.id).await.unwrap_err());
    assert_eq!(last.1, "last_admin_key");
    let audited = as_second
        .audit(&AuditFilter {
            action: Some("key.revoke".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let outcomes: Vec<&str> = audited.iter().map(|e| e.outcome.as_str()).collect();
    assert_eq!(outcomes, ["last_admin_key", "ok", "last_admin_key"]);
});

on_both!(
    a_waiting_attachment_takes_the_phase_when_the_serving_one_goes,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        let c = b.admin();
        c.create_stack(&stack("net")).await.unwrap();
        let from = c.create_integration(&integration("from")).await.unwrap();
        let to = c.create_integration(&integration("to")).await.unwrap();
        let attach = |read: bool, write: bool| AttachmentInput {
            stack_id: "net".into(),
            read,
            write,
        };
        c.attach(&from.id, &attach(true, true)).await.unwrap();
        let waiting = c.attach(&to.id, &attach(true, true)).await.unwrap();
        assert_eq!(
            waiting.pending_handover,
            BTreeMap::from([
                (Phase::Read, from.id.clone()),
                (Phase::Write, from.id.clone())
            ])
        );
        // Narrowing the serving attachment hands its write phase over in
        // the same change.
        c.update_attachment(
            &from.id,
            "net",
            &AttachmentUpdate {
                read: true,
                write: false,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            c.attachment(&to.id, "net").await.unwrap().pending_handover,
            BTreeMap::from([(Phase::Read, from.id.clone())])
        );
        // Detaching it hands over the rest.
        c.detach(&from.id, "net").await.unwrap();
        assert!(
            c.attachment(&to.id, "net")
                .await
                .unwrap()
                .pending_handover
                .is_empty()
        );
        let handovers = c
            .audit(&AuditFilter {
                action: Some("attachment.handover".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let phases: Vec<_> = handovers.iter().map(|e| e.phase).collect();
        assert_eq!(
            phases,
            [Some(Phase::Read), Some(Phase::Write)],
            "newest first"
        );
        assert!(
            handovers
                .iter()
                .all(|e| e.integration_id.as_deref() == Some(to.id.as_str())
                    && e.target == format!("attachment/{}/net", to.id))
        );
        // A waiting attachment that goes leaves the serving one alone.
        let again = c.attach(&from.id, &attach(true, false)).await.unwrap();
        assert_eq!(
            again.pending_handover,
            BTreeMap::from([(Phase::Read, to.id.clone())])
        );
        c.detach(&from.id, "net").await.unwrap();
        assert!(
            c.attachment(&to.id, "net")
                .await
                .unwrap()
                .pending_handover
                .is_empty()
        );
        assert_eq!(
            c.audit(&AuditFilter {
                action: Some("attachment.handover".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .len(),
            2
        );
    }
);

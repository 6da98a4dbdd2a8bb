//! OIDC ID tokens as runner identities, against a local issuer served over
//! HTTPS (`crates/testkit/src/oidc_issuer.rs`): what a valid token may get, every
//! way a token is refused and the reason given, key rotation, key caching,
//! and the audit trail (issuer, subject and `jti`; never the token).
//!
//! No AWS here: a request that passes authentication and authorization
//! reaches the vend, which answers `not_found` (no integration serves the
//! stack). Tokens that get real credentials are in `tests/aws/runs.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use deputy::client::ClientError;
use deputy::model::Phase;
use deputy::wire::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::oidc_issuer::OidcIssuer;
use crate::support::TestBroker;
use testkit::on_both;

fn trust(
    stack: &str,
    issuer: &str,
    subject: &str,
    claims: &[(&str, &str)],
    phases: &[Phase],
) -> RunnerTrustInput {
    RunnerTrustInput {
        stack_id: stack.into(),
        issuer: issuer.into(),
        audience: "deputy".into(),
        subject: subject.into(),
        claims: claims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        phases: phases.to_vec(),
        description: String::new(),
        single_use_tokens: false,
    }
}

/// What a credentials request with `token` for `stack` and `phase` gets:
/// status, code and detail.
async fn ask(
    b: &TestBroker,
    token: &str,
    stack: Option<&str>,
    phase: Phase,
) -> (u16, String, String) {
    let answer = b
        .client(token)
        .credentials(&CredentialsRequest {
            stack_id: stack.map(str::to_string),
            phase,
            run_id: "run-1".into(),
        })
        .await;
    match answer {
        Ok(_) => (200, "ok".into(), String::new()),
        Err(ClientError::Problem(p)) => (p.status, p.code.to_string(), p.detail),
        Err(other) => panic!("expected a problem, got {other}"),
    }
}

/// Passed authentication and authorization: the vend found no integration.
fn authorized(answer: &(u16, String, String)) {
    assert_eq!(answer.1, "not_found", "{answer:?}");
    assert!(answer.2.contains("integration"), "{answer:?}");
}

fn refused(answer: &(u16, String, String), status: u16, reason: &str) {
    assert_eq!(answer.0, status, "{answer:?}");
    assert!(answer.2.contains(reason), "wanted {reason:?} in {answer:?}");
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

on_both!(
    tokens_get_exactly_what_their_trust_grants,
    |backend| async move {
        let issuer = OidcIssuer::start().await;
        let ca = issuer.ca_file.clone();
        let b = TestBroker::start_configured(backend, |c| c.oidc_ca_file = Some(ca)).await;
        let admin = b.admin();
        for id in ["net", "app"] {
            admin
                .create_stack(&StackInput {
                    id: id.into(),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        let url = issuer.url.as_str();
        // Plans from any ref or pull request of acme/net read; pushes to main
        // write. acme/app's jobs act for stack app.
        let net_read = admin
            .create_runner_trust(&trust(
                "net",
                url,
                "repo:acme/net:*",
                &[("repository", "acme/net")],
                &[Phase::Read],
            ))
            .await
            .unwrap();
        let net_write = admin
            .create_runner_trust(&trust(
                "net",
                url,
                "repo:acme/net:ref:refs/heads/main",
                &[("event_name", "push"), ("ref_protected", "true")],
                &[Phase::Write],
            ))
            .await
            .unwrap();
        admin
            .create_runner_trust(&trust(
                "app",
                url,
                "repo:acme/app:*",
                &[],
                &[Phase::Read, Phase::Write],
            ))
            .await
            .unwrap();
        assert_eq!(admin.runner_trusts().await.unwrap().len(), 3);

        let push = issuer.github_claims("acme/net", "push", "refs/heads/main", "deputy");
        let pr = issuer.github_claims("acme/net", "pull_request", "refs/pull/7/merge", "deputy");
        let main_rsa = issuer.sign("rsa-1", &push);
        let main_ec = issuer.sign("ec-1", &push);

        // Valid tokens, RS256 and ES256: the mapped stack and phase pass.
        authorized(&ask(&b, &main_rsa, Some("net"), Phase::Write).await);
        authorized(&ask(&b, &main_ec, Some("net"), Phase::Read).await);
        // Without a stack id, the one stack the token may act for is chosen.
        authorized(&ask(&b, &main_rsa, None, Phase::Write).await);
        let pr_token = issuer.sign("rsa-1", &pr);
        authorized(&ask(&b, &pr_token, Some("net"), Phase::Read).await);
        assert_eq!(
            issuer.key_fetches(),
            1,
            "the key set is fetched once and cached"
        );

        // A pull request's token asking for write.
        refused(
            &ask(&b, &pr_token, Some("net"), Phase::Write).await,
            403,
            "may not get write credentials for stack net",
        );
        // A subject that matches another stack's rule.
        let app_token = issuer.sign(
            "rsa-1",
            &issuer.github_claims("acme/app", "push", "refs/heads/main", "deputy"),
        );
        authorized(&ask(&b, &app_token, Some("app"), Phase::Write).await);
        refused(
            &ask(&b, &app_token, Some("net"), Phase::Read).await,
            403,
            "subject \"repo:acme/app:ref:refs/heads/main\" does not match \"repo:acme/net:*\"",
        );
        refused(
            &ask(&b, &main_rsa, Some("app"), Phase::Read).await,
            403,
            "matches no runner trust for stack app",
        );
        // A push to another branch: the write trust's rule names the claim.
        let feature = issuer.sign(
            "rsa-1",
            &issuer.github_claims("acme/net", "push", "refs/heads/feature", "deputy"),
        );
        refused(
            &ask(&b, &feature, Some("net"), Phase::Write).await,
            403,
            "grant other phases only",
        );

        let now = jsonwebtoken::get_current_timestamp() as i64;
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "expired",
                issuer.sign(
                    "rsa-1",
                    &with(
                        push.clone(),
                        json!({"exp": now - 120, "iat": now - 600, "nbf": now - 600}),
                    ),
                ),
                "expired",
            ),
            (
                "not yet valid",
                issuer.sign("rsa-1", &with(push.clone(), json!({"nbf": now + 600}))),
                "not valid yet",
            ),
            (
                "issued in the future",
                issuer.sign(
                    "rsa-1",
                    &with(push.clone(), json!({"iat": now + 600, "nbf": null})),
                ),
                "issued in the future",
            ),
            (
                "wrong audience",
                issuer.sign(
                    "rsa-1",
                    &with(push.clone(), json!({"aud": "sts.amazonaws.com"})),
                ),
                "audience",
            ),
            (
                "wrong issuer",
                issuer.sign(
                    "rsa-1",
                    &with(
                        push.clone(),
                        json!({"iss": "https://token.actions.githubusercontent.com"}),
                    ),
                ),
                "no runner trust names its issuer",
            ),
            (
                "no subject",
                issuer.sign("rsa-1", &with(push.clone(), json!({"sub": null}))),
                "`sub`",
            ),
            (
                "unknown kid",
                resign_with_kid(&issuer, &push, "rsa-404"),
                "key id \"rsa-404\"",
            ),
            ("alg none", unsigned(&push), "never `none`"),
            (
                "HS256 with the public key",
                hmac_with_public_key(&issuer, &push),
                "asymmetric",
            ),
            (
                "tampered claims",
                tampered(&main_rsa),
                "signature does not verify",
            ),
            (
                "ES256 header on the RSA key",
                swap_alg(&issuer, &push),
                "\"rsa-1\" is for RS256",
            ),
        ];
        for (case, token, reason) in &cases {
            let answer = ask(&b, token, Some("net"), Phase::Read).await;
            assert_eq!(answer.0, 401, "{case}: {answer:?}");
            assert!(
                answer.2.contains(reason),
                "{case}: wanted {reason:?} in {answer:?}"
            );
        }

        // Rotation: the issuer retires rsa-1 for rsa-2. A token signed with the
        // new key makes the broker fetch the key set again (at most every two
        // seconds), and the retired key is no longer accepted.
        let fetches = issuer.key_fetches();
        issuer.rotate("rsa-2", Algorithm::RS256);
        tokio::time::sleep(Duration::from_millis(2100)).await;
        authorized(
            &ask(
                &b,
                &issuer.sign(
                    "rsa-2",
                    &issuer.github_claims("acme/net", "push", "refs/heads/main", "deputy"),
                ),
                Some("net"),
                Phase::Write,
            )
            .await,
        );
        tokio::time::sleep(Duration::from_millis(2100)).await;
        refused(
            &ask(&b, &main_rsa, Some("net"), Phase::Write).await,
            401,
            "not among the signing keys",
        );
        assert!(
            issuer.key_fetches() <= fetches + 2,
            "at most one fetch per unknown key id"
        );

        // The audit trail: issuer, subject, jti and trust of every token
        // request; failed authentications with their reason; never a token.
        let events = admin
            .audit(&AuditFilter {
                limit: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap();
        let all = serde_json::to_string(&events).unwrap();
        for (_, token, _) in &cases {
            let signature = token.rsplit('.').next().unwrap();
            assert!(
                signature.is_empty() || !all.contains(signature),
                "a token reached the audit trail"
            );
        }
        assert!(!all.contains(main_rsa.rsplit('.').next().unwrap()));
        let granted = events
            .iter()
            .rev()
            .find(|e| {
                e.action == "credentials.issue"
                    && e.runner_trust_id.as_deref() == Some(net_write.id.as_str())
            })
            .expect("the write request is audited with its trust");
        assert_eq!(granted.token_issuer.as_deref(), Some(url));
        assert_eq!(
            granted.token_subject.as_deref(),
            Some("repo:acme/net:ref:refs/heads/main")
        );
        assert_eq!(granted.token_id.as_deref(), push["jti"].as_str());
        assert_eq!(granted.key_id, None);
        assert_eq!(granted.stack_id.as_deref(), Some("net"));
        assert!(
            events
                .iter()
                .any(|e| e.runner_trust_id.as_deref() == Some(net_read.id.as_str()))
        );
        let refusal = events
            .iter()
            .find(|e| {
                e.action == "credentials.issue"
                    && e.outcome == "forbidden"
                    && e.phase == Some(Phase::Write)
            })
            .expect("the pull request's write request is audited");
        assert!(
            refusal.detail.contains("grant other phases only"),
            "{refusal:?}"
        );
        let failures: Vec<&AuditEvent> = events
            .iter()
            .filter(|e| e.action == "auth.failed")
            .collect();
        assert!(
            failures.len() >= cases.len(),
            "{} failed authentications audited",
            failures.len()
        );
        assert!(
            failures
                .iter()
                .any(|e| e.detail.contains("expired") && e.source.as_deref() == Some("127.0.0.1"))
        );

        // Deleting a trust takes its tokens' access away.
        admin.delete_runner_trust(&net_write.id).await.unwrap();
        let fresh = issuer.sign(
            "rsa-2",
            &issuer.github_claims("acme/net", "push", "refs/heads/main", "deputy"),
        );
        refused(
            &ask(&b, &fresh, Some("net"), Phase::Write).await,
            403,
            "grant other phases only",
        );

        // A token that two stacks' trusts accept must name its stack.
        admin
            .create_runner_trust(&trust("app", url, "repo:acme/net:*", &[], &[Phase::Read]))
            .await
            .unwrap();
        let both = ask(&b, &fresh, None, Phase::Read).await;
        assert_eq!(
            (both.0, both.1.as_str()),
            (422, "invalid_field"),
            "{both:?}"
        );
        assert!(both.2.contains("may act for stacks app, net"), "{both:?}");
        authorized(&ask(&b, &fresh, Some("app"), Phase::Read).await);
    }
);

/// The same token with another `kid` in its header (signature unchanged).
fn resign_with_kid(issuer: &OidcIssuer, claims: &Value, kid: &str) -> String {
    let token = issuer.sign("rsa-1", claims);
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[0] = b64(&json!({"typ": "JWT", "alg": "RS256", "kid": kid}));
    parts.join(".")
}

fn b64(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// `alg: none` and no signature.
fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(&json!({"typ": "JWT", "alg": "none", "kid": "rsa-1"})),
        b64(claims)
    )
}

/// HS256 keyed with the issuer's public RSA key, the classic confusion
/// attack on verifiers that take the algorithm from the token.
fn hmac_with_public_key(issuer: &OidcIssuer, claims: &Value) -> String {
    let public = issuer.public_key_text("rsa-1");
    let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap()
}

/// A valid token whose claims were changed after signing.
fn tampered(token: &str) -> String {
    use base64::Engine;
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&parts[1])
        .unwrap();
    let mut claims: Value = serde_json::from_slice(&claims).unwrap();
    claims["sub"] = json!("repo:acme/net:ref:refs/heads/main");
    claims["repository"] = json!("acme/net");
    claims["event_name"] = json!("workflow_dispatch");
    parts[1] = b64(&claims);
    parts.join(".")
}

/// An RSA-signed token whose header claims ES256.
fn swap_alg(issuer: &OidcIssuer, claims: &Value) -> String {
    let token = issuer.sign("rsa-1", claims);
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[0] = b64(&json!({"typ": "JWT", "alg": "ES256", "kid": "rsa-1"}));
    parts.join(".")
}

on_both!(
    runner_trust_rules_are_checked_and_explained,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        let admin = b.admin();
        admin
            .create_stack(&StackInput {
                id: "net".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let good = trust(
            "net",
            "https://token.actions.githubusercontent.com",
            "repo:acme/net:*",
            &[],
            &[Phase::Read],
        );
        let field = |e: ClientError| match e {
            ClientError::Problem(p) => (p.status, p.field.unwrap_or_default(), p.detail),
            other => panic!("{other}"),
        };
        let cases = [
            (
                RunnerTrustInput {
                    stack_id: "ghost".into(),
                    ..good.clone()
                },
                "stack_id",
                "does not exist",
            ),
            (
                RunnerTrustInput {
                    issuer: "http://gitlab.com".into(),
                    ..good.clone()
                },
                "issuer",
                "https",
            ),
            (
                RunnerTrustInput {
                    issuer: "https://gitlab.com/".into(),
                    ..good.clone()
                },
                "issuer",
                "ends with",
            ),
            (
                RunnerTrustInput {
                    subject: "*".into(),
                    ..good.clone()
                },
                "subject",
                "anyone's pipeline",
            ),
            (
                // Every GitHub user's tokens start with `repo:`.
                RunnerTrustInput {
                    subject: "repo:acm*".into(),
                    ..good.clone()
                },
                "subject",
                "does not pin the repository's owner",
            ),
            (
                RunnerTrustInput {
                    audience: "".into(),
                    ..good.clone()
                },
                "audience",
                "empty",
            ),
            (
                RunnerTrustInput {
                    phases: vec![],
                    ..good.clone()
                },
                "phases",
                "plan jobs",
            ),
            (
                RunnerTrustInput {
                    claims: BTreeMap::from([("aud".into(), "x".into())]),
                    ..good.clone()
                },
                "claims",
                "checks it itself",
            ),
        ];
        for (input, want_field, reason) in cases {
            let (status, f, detail) = field(admin.create_runner_trust(&input).await.unwrap_err());
            assert_eq!((status, f.as_str()), (422, want_field), "{detail}");
            assert!(detail.contains(reason), "{detail}");
        }
        let created = admin.create_runner_trust(&good).await.unwrap();
        assert_eq!(admin.runner_trust(&created.id).await.unwrap(), created);
        let replaced = admin
            .replace_runner_trust(
                &created.id,
                &RunnerTrustInput {
                    phases: vec![Phase::Write, Phase::Read, Phase::Read],
                    ..good.clone()
                },
            )
            .await
            .unwrap();
        assert_eq!(replaced.phases, vec![Phase::Read, Phase::Write]);
        assert_eq!(replaced.created_at, created.created_at);
        // Runner keys cannot manage trusts.
        let runner = admin
            .create_key(&ApiKeyInput::runner("net", &[Phase::Read]))
            .await
            .unwrap();
        assert_eq!(
            field(b.client(&runner.token).runner_trusts().await.unwrap_err()).0,
            403
        );
        // An issuer that cannot be reached: 502 with what failed, not a 401.
        admin
            .create_runner_trust(&trust(
                "net",
                "https://127.0.0.1:9",
                "repo:x/y:*",
                &[],
                &[Phase::Read],
            ))
            .await
            .unwrap();
        let token = format!(
            "{}.{}.c2ln",
            b64(&json!({"alg": "RS256", "kid": "k"})),
            b64(&json!({"iss": "https://127.0.0.1:9", "sub": "repo:x/y:z", "aud": "deputy"}))
        );
        let answer = ask(&b, &token, Some("net"), Phase::Read).await;
        assert_eq!(
            (answer.0, answer.1.as_str()),
            (502, "issuer_unavailable"),
            "{answer:?}"
        );
        // Stack deletion removes the stack's trusts.
        admin.delete_stack("net").await.unwrap();
        assert!(admin.runner_trusts().await.unwrap().is_empty());
    }
);

on_both!(
    credential_requests_are_rate_limited_per_caller,
    |backend| async move {
        let b = TestBroker::start_configured(backend, |c| c.credentials_rate_limit = 3).await;
        let admin = b.admin();
        for id in ["net", "app"] {
            admin
                .create_stack(&StackInput {
                    id: id.into(),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        let net = admin
            .create_key(&ApiKeyInput::runner("net", &[Phase::Read]))
            .await
            .unwrap()
            .token;
        let app = admin
            .create_key(&ApiKeyInput::runner("app", &[Phase::Read]))
            .await
            .unwrap()
            .token;
        for _ in 0..3 {
            authorized(&ask(&b, &net, None, Phase::Read).await);
        }
        let http = reqwest::Client::new();
        let limited = http
            .post(b.url("/v1/credentials"))
            .bearer_auth(&net)
            .json(&json!({"phase": "read", "run_id": "r"}))
            .send()
            .await
            .unwrap();
        assert_eq!(limited.status(), 429);
        let retry_after: u64 = limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=20).contains(&retry_after), "{retry_after}");
        let problem: Problem = limited.json().await.unwrap();
        assert_eq!(problem.code, ProblemCode::RateLimited);
        assert!(
            problem.detail.contains("at most 3 a minute"),
            "{}",
            problem.detail
        );
        // Another key has its own budget.
        authorized(&ask(&b, &app, None, Phase::Read).await);
    }
);

/// Each issuer's keys are fetched under a lock of its own: a slow issuer
/// delays only its own tokens, a failed fetch is answered from memory for
/// a while, and made-up key ids do not make the broker ask the issuer
/// again and again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_or_down_issuer_delays_only_its_own_tokens() {
    let (slow, healthy) = (OidcIssuer::start().await, OidcIssuer::start().await);
    let dir = tempfile::tempdir().unwrap();
    let cas = dir.path().join("issuers.pem");
    std::fs::write(
        &cas,
        [&slow.ca_file, &healthy.ca_file]
            .map(|f| std::fs::read_to_string(f).unwrap())
            .concat(),
    )
    .unwrap();
    let b = TestBroker::start_configured(crate::support::Backend::Sqlite, |c| {
        c.oidc_ca_file = Some(cas)
    })
    .await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput {
            id: "net".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    for issuer in [&slow, &healthy] {
        admin
            .create_runner_trust(&trust(
                "net",
                &issuer.url,
                "repo:acme/net:*",
                &[],
                &[Phase::Read],
            ))
            .await
            .unwrap();
    }
    let token = |issuer: &OidcIssuer| {
        issuer.sign(
            "rsa-1",
            &issuer.github_claims("acme/net", "push", "refs/heads/main", "deputy"),
        )
    };

    // The slow issuer takes 4 s to answer; the healthy one's token, sent
    // while the slow fetch is under way, does not wait for it.
    slow.stall(Duration::from_secs(4));
    let slow_token = token(&slow);
    let waiting = {
        let client = b.client(&slow_token);
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let answer = client
                .credentials(&CredentialsRequest {
                    stack_id: Some("net".into()),
                    phase: Phase::Read,
                    run_id: "run-1".into(),
                })
                .await;
            (started.elapsed(), answer.is_err())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    authorized(&ask(&b, &token(&healthy), Some("net"), Phase::Read).await);
    let healthy_took = started.elapsed();
    let (slow_took, _) = waiting.await.unwrap();
    assert!(
        healthy_took < Duration::from_secs(2) && slow_took >= Duration::from_secs(3),
        "healthy issuer's token took {healthy_took:?}, the slow one's {slow_took:?}"
    );

    // A down issuer: the first token finds out, the next ones are told
    // from memory without asking it again.
    let down = OidcIssuer::start().await;
    let b = {
        let ca = down.ca_file.clone();
        TestBroker::start_configured(crate::support::Backend::Sqlite, |c| {
            c.oidc_ca_file = Some(ca)
        })
        .await
    };
    let admin = b.admin();
    admin
        .create_stack(&StackInput {
            id: "net".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    admin
        .create_runner_trust(&trust(
            "net",
            &down.url,
            "repo:acme/net:*",
            &[],
            &[Phase::Read],
        ))
        .await
        .unwrap();
    down.set_down(true);
    let down_token = token(&down);
    refused(
        &ask(&b, &down_token, Some("net"), Phase::Read).await,
        502,
        "answered 404",
    );
    let asked = down.requests();
    for _ in 0..5 {
        refused(
            &ask(&b, &down_token, Some("net"), Phase::Read).await,
            502,
            "asked again",
        );
    }
    assert_eq!(
        down.requests(),
        asked,
        "a failed fetch is not retried at once"
    );

    // Back up after the back-off: keys are fetched, tokens pass; then a
    // burst of made-up key ids costs at most one more fetch.
    down.set_down(false);
    tokio::time::sleep(Duration::from_secs(10)).await;
    authorized(&ask(&b, &down_token, Some("net"), Phase::Read).await);
    let fetched = down.key_fetches();
    let claims = down.github_claims("acme/net", "push", "refs/heads/main", "deputy");
    for n in 0..20 {
        refused(
            &ask(
                &b,
                &resign_with_kid(&down, &claims, &format!("made-up-{n}")),
                Some("net"),
                Phase::Read,
            )
            .await,
            401,
            "not among the signing keys",
        );
    }
    assert!(
        down.key_fetches() <= fetched + 1,
        "{} key-set fetches for 20 made-up key ids",
        down.key_fetches() - fetched
    );
}

// A trust with `single_use_tokens` accepts each token once, on whichever
// replica sees it first; other trusts and fresh tokens are unaffected.
on_both!(
    single_use_trusts_refuse_a_replayed_token,
    |backend| async move {
        let issuer = OidcIssuer::start().await;
        let ca = issuer.ca_file.clone();
        let b = TestBroker::start_configured(backend, |c| c.oidc_ca_file = Some(ca.clone())).await;
        // A second replica on the same store.
        let url = b.store_url().to_string();
        let replica = TestBroker::start_configured(backend, |c| {
            c.oidc_ca_file = Some(ca);
            c.store_url = url;
        })
        .await;
        let admin = b.admin();
        for id in ["net", "app"] {
            admin
                .create_stack(&StackInput {
                    id: id.into(),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        let once = admin
            .create_runner_trust(&RunnerTrustInput {
                single_use_tokens: true,
                ..trust("net", &issuer.url, "repo:acme/net:*", &[], &[Phase::Read])
            })
            .await
            .unwrap();
        assert!(once.single_use_tokens);
        admin
            .create_runner_trust(&trust(
                "app",
                &issuer.url,
                "repo:acme/app:*",
                &[],
                &[Phase::Read],
            ))
            .await
            .unwrap();

        let claims = issuer.github_claims("acme/net", "push", "refs/heads/main", "deputy");
        let token = issuer.sign("rsa-1", &claims);
        // Refused for its scope first: not spent.
        refused(&ask(&b, &token, Some("net"), Phase::Write).await, 403, "");
        authorized(&ask(&b, &token, Some("net"), Phase::Read).await);
        for broker in [&b, &replica] {
            refused(
                &ask(broker, &token, Some("net"), Phase::Read).await,
                401,
                "it was used before",
            );
        }
        // A fresh token of the same job passes, at either replica.
        authorized(
            &ask(
                &replica,
                &issuer.sign(
                    "rsa-1",
                    &issuer.github_claims("acme/net", "push", "refs/heads/main", "deputy"),
                ),
                Some("net"),
                Phase::Read,
            )
            .await,
        );
        // Without a `jti`, a single-use trust cannot tell tokens apart.
        refused(
            &ask(
                &b,
                &issuer.sign("rsa-1", &with(claims, json!({"jti": null}))),
                Some("net"),
                Phase::Read,
            )
            .await,
            401,
            "no usable `jti`",
        );
        // A trust without the setting takes the same token again.
        let app = issuer.sign(
            "rsa-1",
            &issuer.github_claims("acme/app", "push", "refs/heads/main", "deputy"),
        );
        authorized(&ask(&b, &app, Some("app"), Phase::Read).await);
        authorized(&ask(&replica, &app, Some("app"), Phase::Read).await);
        let refusal = admin
            .audit(&AuditFilter {
                action: Some("credentials.issue".into()),
                outcome: Some("unauthenticated".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            refusal.iter().any(|e| e.detail.contains("used before")
                && e.runner_trust_id.as_deref() == Some(once.id.as_str())),
            "{refusal:?}"
        );
    }
);

//! The console over plain HTTP, without a browser (the browser test is
//! `tests/aws/console.rs`): the sign-in exchange and its cookie, the
//! session's tie to its key, CSRF refusals, the security headers, and the
//! stylesheet's revalidation, on SQLite and PostgreSQL.

use deputy::wire::{ApiKeyInput, AuditFilter, IntegrationInput, KeyRole, StackInput};

use crate::support::{ROLE, TestBroker};
use testkit::on_both;

/// A client that shows redirects instead of following them.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `name=value` of the Set-Cookie for `name`, with its attributes.
fn set_cookie(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", r.headers()))
}

fn value(cookie: &str) -> &str {
    cookie.split(';').next().unwrap()
}

/// A form body, as a browser posts it.
trait Form {
    fn form_of(self, pairs: &[(&str, &str)]) -> Self;
}

impl Form for reqwest::RequestBuilder {
    fn form_of(self, pairs: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }
}

/// The value of the hidden `csrf` field of a page.
fn csrf_field(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

/// Signs in with `key`; the answer, and the sign-in cookie it was sent with.
async fn sign_in(b: &TestBroker, key: &str) -> reqwest::Response {
    let form = http().get(b.url("/sign-in")).send().await.unwrap();
    let pre = value(&set_cookie(&form, "deputy_sign_in")).to_string();
    let csrf = csrf_field(&form.text().await.unwrap());
    http()
        .post(b.url("/sign-in"))
        .header("cookie", pre)
        .form_of(&[("csrf", csrf.as_str()), ("key", key)])
        .send()
        .await
        .unwrap()
}

on_both!(
    sessions_belong_to_admin_keys_and_forms_need_their_token,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        let admin = b.admin();

        // The sign-in page: headers every console page carries.
        let page = http().get(b.url("/sign-in")).send().await.unwrap();
        let csp = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        assert_eq!(page.headers()["cache-control"], "no-store");
        assert!(
            !page.text().await.unwrap().contains("<script>"),
            "no inline script"
        );

        // Signed out: pages send the browser to the sign-in form.
        let away = http().get(b.url("/integrations")).send().await.unwrap();
        assert_eq!(away.status(), 303);
        assert_eq!(away.headers()["location"], "/sign-in");

        // A sign-in without the form's own token is refused.
        let forged = http()
            .post(b.url("/sign-in"))
            .form_of(&[("key", b.admin_token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        assert!(
            forged
                .headers()
                .get_all("set-cookie")
                .iter()
                .all(|c| !c.to_str().unwrap().starts_with("deputy_session="))
        );

        // A wrong key: 401 on the form, audited as a failed authentication.
        let wrong = sign_in(&b, "dpk_0123456789abcdef_nope").await;
        assert_eq!(wrong.status(), 401);
        assert!(wrong.text().await.unwrap().contains("unknown API key"));

        // A second admin key signs in: a session cookie that is not the key.
        let second = admin
            .create_key(&ApiKeyInput {
                role: KeyRole::Admin,
                stack_id: None,
                phases: None,
                description: "console".into(),
                expires_in_seconds: Some(3600),
            })
            .await
            .unwrap();
        let signed = sign_in(&b, &second.token).await;
        assert_eq!(signed.status(), 303);
        assert_eq!(signed.headers()["location"], "/integrations");
        let cookie = set_cookie(&signed, "deputy_session");
        assert!(
            cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict"),
            "{cookie}"
        );
        assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
        // The session ends with the key: no later than its expiry.
        let max_age: i64 = cookie
            .split("Max-Age=")
            .nth(1)
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((3500..=3600).contains(&max_age), "{cookie}");
        let session = value(&cookie).to_string();
        assert!(!second.token.contains(session.split('=').nth(1).unwrap()));

        let list = http()
            .get(b.url("/integrations"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(list.status(), 200);
        let html = list.text().await.unwrap();
        assert!(!html.contains(&second.token));
        let csrf = csrf_field(&html);

        // A filter the API refuses: the list page says why, above no rows.
        let refused = http()
            .get(b.url("/integrations?label=team"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains("is not key=value"));

        // A form posted without the token, or with another's, changes nothing.
        for token in ["", "0000"] {
            let refused = http()
                .post(b.url("/stacks"))
                .header("cookie", &session)
                .form_of(&[("csrf", token), ("id", "forged")])
                .send()
                .await
                .unwrap();
            assert_eq!(refused.status(), 403);
        }
        assert!(admin.stack("forged").await.is_err());
        // With it, the stack is made, by this key, audited.
        let made = http()
            .post(b.url("/stacks"))
            .header("cookie", &session)
            .form_of(&[
                ("csrf", csrf.as_str()),
                ("id", "made"),
                ("labels", "team=core"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 303);
        assert_eq!(admin.stack("made").await.unwrap().labels["team"], "core");
        let created = admin
            .audit(&AuditFilter {
                action: Some("stack.create".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(created[0].key_id.as_deref(), Some(second.key.id.as_str()));

        // A runner key cannot sign in, and the attempt is audited.
        let runner = admin
            .create_key(&ApiKeyInput::runner("made", &[deputy::model::Phase::Read]))
            .await
            .unwrap();
        let refused = sign_in(&b, &runner.token).await;
        assert_eq!(refused.status(), 403);
        assert!(refused.text().await.unwrap().contains("runner key"));

        // Revoking the key ends its session at once.
        admin.revoke_key(&second.key.id).await.unwrap();
        let after = http()
            .get(b.url("/integrations"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(after.status(), 303);
        assert_eq!(after.headers()["location"], "/sign-in");

        let events: Vec<(String, String)> = admin
            .audit(&AuditFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.action, e.outcome))
            .collect();
        for expected in [
            ("console.sign_in", "ok"),
            ("console.sign_in", "forbidden"),
            ("auth.failed", "unauthenticated"),
        ] {
            assert!(
                events
                    .iter()
                    .any(|(a, o)| a == expected.0 && o == expected.1),
                "{expected:?}: {events:?}"
            );
        }

        // The stylesheet: revalidated by ETag, not re-sent.
        let css = http()
            .get(b.url("/assets/console.css"))
            .send()
            .await
            .unwrap();
        assert_eq!(css.status(), 200);
        assert_eq!(css.headers()["cache-control"], "no-cache");
        let etag = css.headers()["etag"].clone();
        let again = http()
            .get(b.url("/assets/console.css"))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
    }
);

/// A session of the bootstrap admin key and a page's CSRF token.
async fn session_of(b: &TestBroker) -> (String, String) {
    let signed = sign_in(b, &b.admin_token).await;
    let session = value(&set_cookie(&signed, "deputy_session")).to_string();
    let page = http()
        .get(b.url("/stacks/new"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    (session.clone(), csrf_field(&page.text().await.unwrap()))
}

on_both!(
    edit_forms_keep_the_apis_rules_and_the_audit_finds_an_integrations_events,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        let admin = b.admin();
        let (session, csrf) = session_of(&b).await;
        let post = |path: &str, pairs: Vec<(&str, &str)>| {
            let mut pairs = pairs;
            pairs.push(("csrf", csrf.as_str()));
            http()
                .post(b.url(path))
                .header("cookie", &session)
                .form_of(&pairs)
        };

        // A stack's edit form: a label line without `=` is refused next to
        // its field with what was typed kept; a good one is saved.
        admin
            .create_stack(&StackInput::with_id("net"))
            .await
            .unwrap();
        let bad = post(
            "/stacks/net/edit",
            vec![("name", "Network"), ("labels", "team")],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(bad.status(), 422);
        let html = bad.text().await.unwrap();
        assert!(html.contains("id=\"labels-error\""), "{html}");
        assert!(html.contains("is not key=value"), "{html}");
        assert!(html.contains("value=\"Network\""), "{html}");
        let good = post(
            "/stacks/net/edit",
            vec![("name", "Network"), ("labels", "team=core")],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(good.status(), 303);
        let net = admin.stack("net").await.unwrap();
        assert_eq!(
            (net.name.as_str(), net.labels["team"].as_str()),
            ("Network", "core")
        );

        // An integration's: the API's own check on the duration, then a rename.
        let i = admin
            .create_integration(&IntegrationInput {
                name: "prod".into(),
                role_arn: ROLE.into(),
                ..IntegrationInput::default()
            })
            .await
            .unwrap();
        let edit = format!("/integrations/{}/edit", i.id);
        let bad = post(
            &edit,
            vec![
                ("name", "prod"),
                ("role_arn", ROLE),
                ("duration_seconds", "60"),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(bad.status(), 422);
        let html = bad.text().await.unwrap();
        assert!(html.contains("id=\"duration_seconds-error\""), "{html}");
        let renamed = post(&edit, vec![("name", "production"), ("role_arn", ROLE)])
            .send()
            .await
            .unwrap();
        assert_eq!(renamed.status(), 303);
        assert_eq!(admin.integration(&i.id).await.unwrap().name, "production");

        // Attached, then detached through the console; the audit filter by
        // integration finds its own events and its attachments', and a filter
        // with LIKE's wildcards finds nothing.
        let attach = format!("/integrations/{}/attachments", i.id);
        let attached = post(&attach, vec![("stack", "net"), ("access", "read")])
            .send()
            .await
            .unwrap();
        assert_eq!(attached.status(), 303);
        let detached = post(&format!("{attach}/net/detach"), vec![])
            .send()
            .await
            .unwrap();
        assert_eq!(detached.status(), 303);
        assert!(
            admin
                .attachments_of_integration(&i.id)
                .await
                .unwrap()
                .is_empty()
        );
        let actions = |filter: &str| {
            let filter = filter.to_string();
            let admin = admin.clone();
            async move {
                admin
                    .audit(&AuditFilter {
                        integration_id: Some(filter),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| format!("{} {}", e.action, e.outcome))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            actions(i.id.as_str()).await,
            [
                "attachment.delete ok",
                "attachment.create ok",
                "integration.update ok",
                "integration.update invalid_field",
                "integration.create ok",
            ]
        );
        assert!(actions("%").await.is_empty());

        // Deleting the stack from its page.
        let deleted = post("/stacks/net/delete", vec![]).send().await.unwrap();
        assert_eq!(deleted.status(), 303);
        assert!(admin.stack("net").await.is_err());
    }
);

// A key id typed into the sign-in form reaches the audit trail only once it
// has the shape of one (16 hex digits): escape sequences in a forged key
// are neither stored nor printed by `deputy audit` (#25, item 5).
on_both!(
    forged_key_ids_stay_out_of_the_audit_trail,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        // 16 bytes before the `_`, as a key id has.
        let forged = "dpk_\u{1b}]0;pwned\u{7}\u{1b}[2Jab_c2VjcmV0";
        let refused = sign_in(&b, forged).await;
        assert_eq!(refused.status(), 401);
        let events = b
            .admin()
            .audit(&AuditFilter {
                action: Some("auth.failed".into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert!(!events.is_empty(), "the failed sign-in is audited");
        for e in &events {
            let fields = [
                e.key_id.clone().unwrap_or_default(),
                e.target.clone(),
                e.detail.clone(),
            ];
            assert!(
                fields.iter().all(|f| !f.chars().any(char::is_control)),
                "{e:?}"
            );
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_deputy"))
            .args(["audit", "--action", "auth.failed"])
            .env("DEPUTY_ENDPOINT", &b.base)
            .env("DEPUTY_TOKEN", &b.admin_token)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(
            !out.stdout.contains(&0x1b),
            "{:?}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
);

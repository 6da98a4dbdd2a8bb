//! The console over plain HTTP, without a browser (the browser test is
//! `tests/aws/console.rs`): the sign-in exchange and its cookie, the
//! session's tie to its key, CSRF refusals, the security headers, the
//! stylesheet's revalidation, confirmations before destructive actions and
//! post/redirect/get with its messages, on SQLite and PostgreSQL.

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
                space_id: None,
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
        // A detach not confirmed (an old one-click form) asks first, and
        // detaches nothing.
        let asked = post(&format!("{attach}/net/detach"), vec![])
            .send()
            .await
            .unwrap();
        assert_eq!(asked.status(), 200);
        let html = asked.text().await.unwrap();
        assert!(html.contains("Detach stack net from production?"), "{html}");
        assert_eq!(
            admin.attachments_of_integration(&i.id).await.unwrap().len(),
            1
        );
        let detached = post(&format!("{attach}/net/detach"), vec![("confirmed", "yes")])
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
        let deleted = post("/stacks/net/delete", vec![("confirmed", "yes")])
            .send()
            .await
            .unwrap();
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

/// The cookies a redirect set, as the next request of a browser sends them
/// (those cleared with `Max-Age=0` left out), after `session`.
fn carried(r: &reqwest::Response, session: &str) -> String {
    let mut jar = vec![session.to_string()];
    for c in r.headers().get_all("set-cookie") {
        let c = c.to_str().unwrap();
        if !c.contains("Max-Age=0") {
            jar.push(value(c).to_string());
        }
    }
    jar.join("; ")
}

// #32: every destructive action asks first (typing the name for an
// integration or an admin key), the last admin key cannot be revoked from
// the console either, every change redirects to a page that says what was
// done once, and a key's form posted twice makes one key whose secret is
// shown once.
on_both!(
    destructive_actions_ask_first_and_changes_say_what_they_did_once,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        let admin = b.admin();
        let (session, csrf) = session_of(&b).await;
        let get = |path: &str, cookie: &str| {
            http()
                .get(b.url(path))
                .header("cookie", cookie.to_string())
                .send()
        };
        let post = |path: &str, pairs: Vec<(&str, &str)>| {
            let mut pairs = pairs;
            pairs.push(("csrf", csrf.as_str()));
            http()
                .post(b.url(path))
                .header("cookie", &session)
                .form_of(&pairs)
        };
        let bootstrap = admin.keys().await.unwrap()[0].id.clone();

        // The last admin key: its confirmation page asks for its id; the
        // id typed wrong changes nothing, typed right the broker refuses,
        // on the same page, with why.
        let page = get(&format!("/keys/{bootstrap}/revoke"), &session)
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!("Type <strong class=\"name\">{bootstrap}</strong>")),
            "{html}"
        );
        let wrong = post(
            &format!("/keys/{bootstrap}/revoke"),
            vec![("confirm", "nope")],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(wrong.status(), 422);
        assert!(wrong.text().await.unwrap().contains("That is not"));
        let last = post(
            &format!("/keys/{bootstrap}/revoke"),
            vec![("confirm", &bootstrap)],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(last.status(), 409);
        assert!(last.text().await.unwrap().contains("last usable admin key"));
        assert!(admin.keys().await.unwrap()[0].revoked_at.is_none());

        // A runner key, made through the form: the answer is a redirect
        // whose page shows the secret once; the form posted again (a
        // reload of the answer) makes no second key.
        admin
            .create_stack(&StackInput::with_id("net"))
            .await
            .unwrap();
        let form = get("/keys", &session).await.unwrap().text().await.unwrap();
        let at = form.find("name=\"once\" value=\"").expect("a one-time key") + 19;
        let once = form[at..].split('"').next().unwrap().to_string();
        let fields = vec![
            ("role", "runner"),
            ("stack_id", "net"),
            ("read", "on"),
            ("once", once.as_str()),
        ];
        let made = post("/keys", fields.clone()).send().await.unwrap();
        assert_eq!(made.status(), 303);
        let to = made.headers()["location"].to_str().unwrap().to_string();
        let id = to.strip_prefix("/keys?created=").expect(&to).to_string();
        let cookies = carried(&made, &session);
        let shown = get(&to, &cookies).await.unwrap();
        let cleared: Vec<String> = shown
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|c| c.to_str().unwrap().to_string())
            .collect();
        let html = shown.text().await.unwrap();
        assert!(
            html.contains(&format!("id=\"new-key\" class=\"secret\">dpk_{id}")),
            "{html}"
        );
        assert!(html.contains(&format!("Key {id} created.")), "{html}");
        for name in ["deputy_flash", "deputy_new_key"] {
            assert!(
                cleared
                    .iter()
                    .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0")),
                "{name}: {cleared:?}"
            );
        }
        // Reloaded (the cookies are gone): no secret, and why.
        let reloaded = get(&to, &session).await.unwrap().text().await.unwrap();
        assert!(!reloaded.contains("dpk_"), "{reloaded}");
        assert!(
            reloaded.contains("shown once, when it was created"),
            "{reloaded}"
        );
        let again = post("/keys", fields).send().await.unwrap();
        assert_eq!(again.status(), 303);
        assert_eq!(again.headers()["location"], to.as_str());
        let runners = admin
            .keys()
            .await
            .unwrap()
            .into_iter()
            .filter(|k| k.role == KeyRole::Runner)
            .count();
        assert_eq!(runners, 1, "the form posted twice made one key");

        // A runner key is revoked with a click on its confirmation page;
        // the keys page then says so, once.
        let revoked = post(&format!("/keys/{id}/revoke"), vec![("confirmed", "yes")])
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 303);
        let cookies = carried(&revoked, &session);
        let html = get("/keys", &cookies).await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("Key {id} revoked.")), "{html}");
        let html = get("/keys", &session).await.unwrap().text().await.unwrap();
        assert!(!html.contains("revoked."), "shown once: {html}");

        // An integration is deleted only with its name typed.
        let i = admin
            .create_integration(&IntegrationInput {
                name: "prod".into(),
                role_arn: ROLE.into(),
                ..IntegrationInput::default()
            })
            .await
            .unwrap();
        let delete = format!("/integrations/{}/delete", i.id);
        let clicked = post(&delete, vec![("confirmed", "yes")])
            .send()
            .await
            .unwrap();
        assert_eq!(clicked.status(), 200);
        assert!(admin.integration(&i.id).await.is_ok());
        let typed = post(&delete, vec![("confirm", "prod")])
            .send()
            .await
            .unwrap();
        assert_eq!(typed.status(), 303);
        assert!(admin.integration(&i.id).await.is_err());

        // A duplicate stack id is refused next to the field, phrased for
        // the form, with no Terraform advice and no debug formatting.
        let dup = post("/stacks", vec![("id", "net")]).send().await.unwrap();
        assert_eq!(dup.status(), 409);
        let html = dup.text().await.unwrap();
        assert!(html.contains("id=\"id-error\""), "{html}");
        assert!(
            html.contains("A stack with this id already exists"),
            "{html}"
        );
        assert!(
            !html.contains("import it") && !html.contains("StackId("),
            "{html}"
        );

        // Signing out says so on the sign-in form.
        let out = post("/sign-out", vec![]).send().await.unwrap();
        let cookies = carried(&out, "");
        let html = get("/sign-in", &cookies)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Signed out."), "{html}");
    }
);

// #32: a list's search looks through every stack, not the page shown, and
// an integration is found by its name.
on_both!(
    search_finds_a_stack_past_the_first_page,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        let admin = b.admin();
        for n in 0..130 {
            admin
                .create_stack(&StackInput::with_id(format!("stack-{n:03}")))
                .await
                .unwrap();
        }
        admin
            .create_integration(&IntegrationInput {
                name: "payments prod".into(),
                role_arn: ROLE.into(),
                ..IntegrationInput::default()
            })
            .await
            .unwrap();
        let (session, _) = session_of(&b).await;
        let page = |path: &str| {
            http()
                .get(b.url(path))
                .header("cookie", session.clone())
                .send()
        };
        let first = page("/stacks").await.unwrap().text().await.unwrap();
        assert!(!first.contains("stack-129"), "the first page holds 100");
        let found = page("/stacks?q=STACK-129")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(found.contains(">stack-129</a>"), "{found}");
        assert!(!found.contains(">stack-128</a>"), "{found}");
        let many = page("/stacks?q=stack-")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(many.contains("30 more stacks match"), "{many}");
        let none = page("/stacks?q=nothing-like-it")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(none.contains("No stack matches"), "{none}");
        let i = page("/integrations?q=payments")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(i.contains("payments prod"), "{i}");
        let i = page("/integrations?q=billing")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!i.contains("payments prod"), "{i}");
    }
);

on_both!(
    a_team_key_sees_its_subtree_and_the_controls_its_role_allows,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        let c = b.admin();
        for (id, parent, inherit) in [
            ("platform", "root", false),
            ("team-a", "platform", true),
            ("a-prod", "team-a", true),
            ("team-b", "platform", true),
        ] {
            c.create_space(&deputy::wire::SpaceInput {
                id: id.into(),
                parent_id: Some(parent.into()),
                inherit,
                ..Default::default()
            })
            .await
            .unwrap();
        }
        for (stack, space) in [
            ("ours", "team-a"),
            ("ours-prod", "a-prod"),
            ("theirs", "team-b"),
        ] {
            c.create_stack(&StackInput {
                id: stack.into(),
                space: Some(space.into()),
                ..Default::default()
            })
            .await
            .unwrap();
        }
        // A platform integration both teams use: a team counts its own
        // stacks on it, and learns nothing of the other's.
        let shared = c
            .create_integration(&IntegrationInput {
                name: "shared".into(),
                role_arn: ROLE.into(),
                space: Some("platform".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        for stack in ["ours", "theirs"] {
            c.attach(
                shared.id.as_str(),
                &deputy::wire::AttachmentInput {
                    stack_id: stack.into(),
                    read: true,
                    write: false,
                },
            )
            .await
            .unwrap();
        }
        let key = |role: KeyRole| ApiKeyInput {
            role,
            space_id: Some("team-a".into()),
            stack_id: None,
            phases: None,
            description: String::new(),
            expires_in_seconds: None,
        };
        let page = |session: String, path: &'static str| {
            let b = &b;
            async move {
                let r = http()
                    .get(b.url(path))
                    .header("cookie", session)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        for (role, writes, admins) in [
            (KeyRole::Read, false, false),
            (KeyRole::Write, true, false),
            (KeyRole::Admin, true, true),
        ] {
            let token = c.create_key(&key(role)).await.unwrap().token;
            let signed = sign_in(&b, &token).await;
            let session = value(&set_cookie(&signed, "deputy_session")).to_string();
            let who = format!("{} in team-a", role.as_str());

            let (status, stacks) = page(session.clone(), "/stacks").await;
            assert_eq!(status, 200, "{stacks}");
            assert!(
                stacks.contains(&who),
                "the bar says the key's standing: {stacks}"
            );
            assert!(stacks.contains("ours") && stacks.contains("ours-prod"));
            assert!(!stacks.contains("theirs"), "another team's stack shown");
            assert_eq!(stacks.contains("New stack"), writes, "{role:?}");
            // The switcher offers the subtree, and narrows the list to it.
            assert!(stacks.contains("<option value=\"a-prod\""), "{stacks}");
            assert!(!stacks.contains("<option value=\"team-b\""));
            let (_, narrowed) = page(session.clone(), "/stacks?space=a-prod").await;
            assert!(
                narrowed.contains("ours-prod") && !narrowed.contains(">ours<"),
                "{narrowed}"
            );
            let (status, _) = page(session.clone(), "/stacks?space=team-b").await;
            assert_eq!(
                status, 422,
                "a space out of sight is refused, not listed empty"
            );

            let (_, integrations) = page(session.clone(), "/integrations").await;
            assert_eq!(integrations.contains("New integration"), admins, "{role:?}");
            assert!(
                integrations.contains(r#"<td data-label="Stacks" class="num">1</td>"#),
                "team-a counts its own stack on the shared integration: {integrations}"
            );
            // The shared integration's page shows team-a's stack alone.
            let tab = http()
                .get(b.url(&format!("/integrations/{}/attachments", shared.id)))
                .header("cookie", &session)
                .send()
                .await
                .unwrap();
            assert_eq!(tab.status(), 200);
            let tab = tab.text().await.unwrap();
            assert!(tab.contains(">ours<") && !tab.contains("theirs"), "{tab}");
            assert!(!tab.contains("id=\"verify\""), "Verify is the platform's");
            // Its attachments: team-a's alone.
            let mine = b
                .client(&token)
                .attachments_of_integration(shared.id.as_str())
                .await
                .unwrap();
            assert_eq!(
                mine.iter().map(|a| a.stack_id.as_str()).collect::<Vec<_>>(),
                ["ours"]
            );
            // A role template cannot be asked to trust another team's stack.
            if admins {
                let own = c
                    .create_integration(&IntegrationInput {
                        name: format!("own-{}", role.as_str()),
                        role_arn: ROLE.into(),
                        space: Some("team-a".into()),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                let asked = http()
                    .get(b.url(&format!(
                        "/v1/integrations/{}/role-template?stack_id=theirs",
                        own.id
                    )))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(asked.status(), 422);
                let problem: serde_json::Value = asked.json().await.unwrap();
                assert_eq!(
                    problem["detail"], "stack \"theirs\" does not exist",
                    "{problem}"
                );
            }
            let (status, spaces) = page(session.clone(), "/spaces").await;
            assert_eq!(status, 200);
            assert!(
                spaces.contains("a-prod") && !spaces.contains("team-b"),
                "{spaces}"
            );
            assert_eq!(spaces.contains("Create a space"), admins, "{role:?}");
        }
    }
);

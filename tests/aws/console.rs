//! The console in a real browser: Debian's Chromium, headless, driven over
//! WebDriver (chromedriver) by fantoccini, against a real `deputy serve`
//! whose AWS is the emulator. The operator's first day: sign in, create an
//! integration (a bad role ARN is shown next to its field), follow the
//! first-run steps (choose the stacks on the Trust Policy tab, download the
//! role template, create the role from the page's policy), attach a stack
//! as Read & Write (verified by the broker), see a stack the role does not
//! trust refused at once (and attach it waiting for IAM), watch Verify call
//! a role made
//! open "unsafe" (and the stack page say so), show its retries live on a
//! role that trusts someone else ("not assumable"), and turn green again;
//! make a key (a reload shows its secret no more and makes no other), revoke
//! it after a confirmation, fail to revoke the last admin key, make and
//! delete a runner trust, see a 128-character name and a 60-character id
//! wrap at 1280 and 375 px, filter the audit trail at 375 px by an
//! integration's name, sign out. Runner keys cannot sign in and a post
//! without the CSRF token is refused.
//!
//! Every page shot is checked by axe-core (WCAG 2.2 A and AA): the test
//! prints the findings per page and fails on a serious or critical one.
//! Screenshots of every page at 1280 and 375 pixels wide go to
//! `target/console-screenshots/`; with `DEPUTY_UPDATE_DOCS=1` they also
//! replace the ones in `docs/console/` that the README shows.

use fantoccini::Locator;
use serde_json::json;

use deputy::model::Phase;
use deputy::wire::{ApiKeyInput, AuditFilter, StackInput};

use crate::broker::Broker;
use crate::browser::Browser;
use crate::fakecloud::{ACCOUNT, Fakecloud, trust};

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_runs_the_whole_path_in_a_real_browser() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let b = Broker::start(&fc, &user, &["--verify-retry-seconds", "3"]).await;
    let admin = b.admin();
    for stack in ["net", "dns"] {
        admin
            .create_stack(&StackInput {
                labels: [("team".to_string(), "core".to_string())].into(),
                ..StackInput::with_id(stack)
            })
            .await
            .unwrap();
    }
    let runner = admin
        .create_key(&ApiKeyInput::runner("net", &[Phase::Read]))
        .await
        .unwrap();
    let base = b.base.trim_end_matches('/').to_string();
    let browser = Browser::start().await;
    let w = &browser;

    // Signed out, every page leads to the sign-in form.
    w.goto(&format!("{base}/integrations")).await;
    assert_eq!(w.path().await, "/sign-in");
    w.shoot("sign-in").await;

    // A runner key cannot sign in; the refusal says why and is audited.
    w.fill("#key", &runner.token).await;
    w.click("form button[type=submit]").await;
    assert_eq!(w.path().await, "/sign-in");
    assert!(
        w.text(".error").await.contains("runner key"),
        "{}",
        w.source().await
    );

    // The admin key signs in. It is in no URL and not in the page.
    w.sign_in(&base, &b.admin_token).await;
    assert_eq!(w.path().await, "/integrations");
    let url = w.client.current_url().await.unwrap().to_string();
    assert!(!url.contains("dpk_") && !w.source().await.contains(&b.admin_token));
    let cookie = w.client.get_named_cookie("deputy_session").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(
        cookie.same_site().map(|s| s.to_string()).as_deref(),
        Some("Strict")
    );
    assert!(cookie.max_age().is_some() || cookie.expires().is_some());
    assert!(!b.admin_token.contains(cookie.value()));

    // A bad role ARN: the API's message, next to the field, the rest kept.
    w.click("a[href='/integrations/new']").await;
    w.fill("#name", "prod").await;
    w.fill("#role_arn", "arn:aws:iam::12345:role/deploy").await;
    w.fill("#labels", "team=core").await;
    w.click("form.edit button[type=submit]").await;
    let error = w.text("#role_arn-error").await;
    assert!(error.contains("12 digits"), "{error}");
    let invalid = w.client.find(Locator::Css("#role_arn")).await.unwrap();
    assert_eq!(
        invalid.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(
        w.client
            .find(Locator::Css("#name"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("prod")
    );
    w.shoot("integration-form-error").await;
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/console-deploy");
    w.fill("#role_arn", &role_arn).await;
    w.click("form.edit button[type=submit]").await;
    let page = w.path().await;
    let id = page.strip_prefix("/integrations/").unwrap().to_string();
    assert_eq!(w.text("#state").await, "unverified");
    assert!(w.text(".flash").await.contains("Integration prod created."));

    // The first run, in the order that works: the steps are shown, and
    // Verify waits for something to verify.
    assert!(w.has(".first-run").await, "{}", w.source().await);
    assert!(w.has("#verify[disabled]").await);
    w.shoot("integration-first-run").await;

    // The role comes before the attachment (an attach is verified against
    // it): the Trust Policy tab shows the policy for a stack not attached
    // yet, and the role is created from exactly what the page shows.
    // With nothing chosen, the tab says what to do, and the role template
    // waits for stacks.
    w.click("nav.tabs a[href$='/trust-policy']").await;
    assert!(w.has("#no-policy").await);
    assert!(!w.has("a[href*='role-template']").await);
    w.press("input[name=stack][value=net]").await;
    w.click("form.picker button[type=submit]").await;
    let document = w.text("#trust-policy").await;
    let policy: serde_json::Value = serde_json::from_str(&document).unwrap();
    assert!(
        document.contains(&format!("acme@{id}@net@write")),
        "{document}"
    );
    w.press("button.copy[data-copy=trust-policy]").await;
    let copied = w
        .text_once("button.copy[data-copy=trust-policy]", |t| {
            t == "Copied" || t.starts_with("Selected")
        })
        .await;
    assert!(
        copied == "Copied" || copied.starts_with("Selected"),
        "{copied}"
    );
    // The role template for the chosen stack downloads from the page.
    let template = w
        .client
        .execute_async(
            "const done = arguments[0];
             const a = document.querySelector(\"a[href*='role-template?format=cloudformation']\");
             fetch(a.href).then(r => r.text().then(t => done([r.status, t])));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(template[0], json!(200), "{template}");
    assert!(
        template[1]
            .as_str()
            .unwrap()
            .contains(&format!("acme@{id}@net@write")),
        "{template}"
    );
    fc.role("console-deploy", &policy).await.unwrap();

    // Attach net as Read & Write; the broker verifies it against the role.
    w.click("nav.tabs a[href$='/attachments']").await;
    w.client
        .find(Locator::Css("#stack"))
        .await
        .unwrap()
        .select_by_value("net")
        .await
        .unwrap();
    w.press("input[name=access][value=read-write]").await;
    w.click("form[action$='/attachments'] button[type=submit]")
        .await;
    assert_eq!(w.path().await, format!("/integrations/{id}/attachments"));
    let table = w.text("table").await;
    assert!(table.contains("Read & Write"), "{table}");
    assert!(table.contains(&format!("acme@{id}@net@read")), "{table}");
    w.shoot("integration-attachments").await;

    // dns is not in the role's policy: the attach is refused at once,
    // before the attach's own verification (so no attachment event), with
    // the statement to use and a way to attach waiting for IAM, which then
    // waits out the retry budget and says which stack and phases IAM
    // denied.
    w.client
        .find(Locator::Css("#stack"))
        .await
        .unwrap()
        .select_by_value("dns")
        .await
        .unwrap();
    w.click("form[action$='/attachments'] button[type=submit]")
        .await;
    let refused = w.text(".error").await;
    assert!(refused.contains("does not accept stack dns"), "{refused}");
    // The statement to use keeps trusting net, attached before.
    let statement = w.text("#notice-statement").await;
    assert!(
        statement.contains(&format!("acme@{id}@net@read"))
            && statement.contains(&format!("acme@{id}@dns@write")),
        "{statement}"
    );
    assert!(w.has("#attach-wait").await);
    let attach_events = admin
        .audit(&AuditFilter {
            action: Some("attachment.create".into()),
            stack_id: Some("dns".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(attach_events.is_empty(), "{attach_events:?}");
    w.shoot("integration-attach-refused").await;
    w.click("#attach-wait").await;
    let waited = w.text(".error").await;
    assert!(
        waited.contains("denied with the read and write External IDs of stack dns"),
        "{waited}"
    );
    w.click("nav.tabs a[href$='/trust-policy']").await;
    assert!(w.text("#trust-policy").await.contains("net@read"));
    w.shoot("integration-trust-policy").await;

    // Someone makes the role assumable without an External ID: Verify
    // turns it red with the reason; the right policy back, Verify turns it
    // green.
    fc.set_trust("console-deploy", &trust(&user.arn, json!({})))
        .await
        .unwrap();
    w.click(&format!("nav.tabs a[href='/integrations/{id}']"))
        .await;
    w.click("#verify").await;
    assert_eq!(w.text("#state").await, "unsafe");
    let verdict = w.text("#verification .error.unsafe").await;
    assert!(
        verdict.contains("can be assumed without any External ID"),
        "{verdict}"
    );
    assert!(w.has("#verification pre#statement").await);
    w.shoot("integration-unsafe").await;
    // The stack relying on it says so.
    w.goto(&format!("{base}/stacks/net")).await;
    assert!(w.text(".error").await.contains("unsafe"));
    w.goto(&format!("{base}/integrations/{id}")).await;
    // Now it trusts someone else only: every confirmation is AccessDenied,
    // which IAM propagation could explain, so the broker retries for its
    // budget, and the page shows each retry while the answer is awaited.
    let someone = fc.user("someone-else").await;
    fc.set_trust("console-deploy", &trust(&someone.arn, json!({})))
        .await
        .unwrap();
    // WebDriver answers nothing while the form's answer is awaited, so
    // the page itself notes each progress line it shows, in session
    // storage, which outlives the page.
    w.client
        .execute(
            "new MutationObserver(() => {
               const lines = [...document.querySelectorAll('#verify-progress .lines li')]
                 .map(li => li.textContent);
               if (lines.length) {
                 sessionStorage.setItem('progress', JSON.stringify(lines));
                 // Meanwhile, the integration's page says it is not
                 // assumable yet.
                 fetch(location.pathname).then(r => r.text()).then(page => {
                   if (page.includes('>not assumable yet<')) sessionStorage.setItem('badge', 'yet');
                 });
               }
             }).observe(document.getElementById('verify-progress'), {subtree: true, childList: true});",
            vec![],
        )
        .await
        .unwrap();
    w.click("#verify").await;
    let shown = w
        .client
        .execute("return sessionStorage.getItem('progress');", vec![])
        .await
        .unwrap();
    let shown = shown.as_str().unwrap_or_default();
    assert!(
        shown.contains("confirm:net:") && shown.contains("AccessDenied"),
        "no retry shown live: {shown:?}"
    );
    let badge = w
        .client
        .execute("return sessionStorage.getItem('badge');", vec![])
        .await
        .unwrap();
    assert_eq!(badge, json!("yet"), "no 'not assumable yet' while retrying");
    assert_eq!(w.text("#state").await, "not assumable");
    let verdict = w.text("#verification .error").await;
    assert!(
        verdict.starts_with("Not assumable.") && verdict.contains("of stack net"),
        "{verdict}"
    );
    fc.set_trust("console-deploy", &policy).await.unwrap();
    w.click("#verify").await;
    assert_eq!(w.text("#state").await, "verified");
    assert!(w.text("#verification .passed").await.starts_with("Passed"));
    assert!(w.has("#verification tbody tr").await);
    w.shoot("integration-overview").await;

    // The list: one row, verified, one stack attached.
    w.goto(&format!("{base}/integrations?label=team%3Dcore"))
        .await;
    let row = w.text("tbody tr").await;
    assert!(
        row.contains("prod") && row.contains("verified") && row.ends_with('1'),
        "{row}"
    );
    w.shoot("integrations").await;

    // The stack's page: the integration per phase with its External IDs.
    w.goto(&format!("{base}/stacks/net")).await;
    let attached = w.text("table").await;
    assert!(
        attached.contains(&format!("acme@{id}@net@write")),
        "{attached}"
    );
    w.shoot("stack").await;
    w.goto(&format!("{base}/stacks")).await;
    w.shoot("stacks").await;

    // A key: its secret shown once (a reload neither shows it again nor
    // makes another key), then revoked after a confirmation.
    w.goto(&format!("{base}/keys")).await;
    w.fill("#stack_id", "dns").await;
    w.fill("#description", "browser test").await;
    w.click("form[action='/keys'] button[type=submit]").await;
    let secret = w.text("#new-key").await;
    assert!(secret.starts_with("dpk_"), "{secret}");
    w.shoot("keys-created").await;
    let key_id = secret[4..20].to_string();
    let keys_before = admin.keys().await.unwrap().len();
    w.mark().await;
    w.client.refresh().await.unwrap();
    w.next_page().await;
    assert!(!w.source().await.contains(&secret));
    assert!(w.text(".created").await.contains("shown once"));
    assert_eq!(admin.keys().await.unwrap().len(), keys_before);
    w.click(&format!("a[href='/keys/{key_id}/revoke']")).await;
    assert!(w.text("h1").await.contains(&key_id));
    w.shoot("confirm-revoke").await;
    w.click("form button.destructive").await;
    assert!(w.text(".flash").await.contains("revoked"));
    assert!(
        admin
            .keys()
            .await
            .unwrap()
            .iter()
            .any(|k| k.id == key_id && k.revoked_at.is_some())
    );
    w.shoot("keys").await;

    // Nobody locks themselves out: the admin key signed in is the only
    // one, and revoking it is refused on its confirmation page, which
    // asks for its id typed.
    let me = admin
        .keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.role == deputy::wire::KeyRole::Admin && k.revoked_at.is_none())
        .unwrap()
        .id;
    w.click(&format!("a[href='/keys/{me}/revoke']")).await;
    w.fill("#confirm", &me).await;
    w.click("form button.destructive").await;
    let refused = w.text(".error").await;
    assert!(refused.contains("last usable admin key"), "{refused}");
    w.shoot("confirm-last-admin-key").await;

    // A runner trust: a subject of only `*` is refused next to its field
    // (it would accept every pipeline of the issuer); a real one is made,
    // shown, and deleted.
    w.goto(&format!("{base}/runner-trusts")).await;
    w.fill("#stack_id", "dns").await;
    w.fill("#issuer", "https://token.actions.githubusercontent.com")
        .await;
    w.fill("#subject", "*").await;
    w.click("form[action='/runner-trusts'] button[type=submit]")
        .await;
    assert!(!w.text("#subject-error").await.is_empty());
    w.fill("#subject", "repo:acme/dns:ref:refs/heads/main")
        .await;
    w.click("form[action='/runner-trusts'] button[type=submit]")
        .await;
    let trusts = w.text("table").await;
    assert!(
        trusts.contains("repo:acme/dns:ref:refs/heads/main"),
        "{trusts}"
    );
    w.shoot("runner-trusts").await;
    let made = admin.runner_trusts().await.unwrap();
    assert_eq!(made.len(), 1);
    w.click(&format!("a[href='/runner-trusts/{}/delete']", made[0].id))
        .await;
    w.click("form button.destructive").await;
    assert!(admin.runner_trusts().await.unwrap().is_empty());

    // A post without the CSRF token is refused, and changes nothing.
    let status = w
        .client
        .execute_async(
            "const done = arguments[0];
             fetch('/stacks', {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'id=forged'})
               .then(r => done(r.status));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));
    assert!(admin.stack("forged").await.is_err());

    // Long values wrap instead of widening the page: a 128-character
    // name and a 60-character stack id, at both widths.
    admin
        .create_integration(&deputy::wire::IntegrationInput {
            name: "n".repeat(128),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/{}", "r".repeat(60)),
            ..Default::default()
        })
        .await
        .unwrap();
    admin
        .create_stack(&StackInput::with_id("s".repeat(60)))
        .await
        .unwrap();
    for (width, page) in [
        (1280, "/integrations"),
        (375, "/integrations"),
        (375, "/stacks"),
        (375, &*format!("/integrations/{id}/attachments")),
    ] {
        w.client.set_window_size(width, 900).await.unwrap();
        w.goto(&format!("{base}{page}")).await;
        let overflow = w
            .client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            overflow,
            json!(0),
            "{page} at {width} px is wider than the window"
        );
    }
    w.client.set_window_size(1280, 900).await.unwrap();
    w.goto(&format!("{base}/integrations")).await;
    w.shoot("integrations-long-names").await;

    // The audit trail at 375 px, filtered by the integration's name.
    w.client.set_window_size(375, 812).await.unwrap();
    w.goto(&format!("{base}/audit")).await;
    w.fill("input[name=integration]", "prod").await;
    w.click("form.filters button[type=submit]").await;
    let events = w.text("table").await;
    assert!(events.contains("attachment.create"), "{events}");
    // A time that is not one is refused, not silently empty.
    w.goto(&format!("{base}/audit?since=yesterday")).await;
    assert!(w.text(".error").await.contains("not a time"));
    w.client.set_window_size(1280, 900).await.unwrap();

    // The audit trail, newest first, filtered to the integration.
    w.goto(&format!("{base}/audit?integration={id}")).await;
    let events = w.text("table").await;
    for action in [
        "integration.create",
        "attachment.create",
        "integration.verify",
    ] {
        assert!(events.contains(action), "{action}: {events}");
    }
    assert!(!events.contains("key.create"), "{events}");
    w.shoot("audit").await;

    // Spaces: the tree, and the switcher narrowing the stacks to a team's.
    for (space, parent, inherit) in [
        ("platform", "root", false),
        ("payments", "platform", true),
        ("checkout", "platform", true),
    ] {
        admin
            .create_space(&deputy::wire::SpaceInput {
                id: space.into(),
                parent_id: Some(parent.into()),
                inherit,
                ..Default::default()
            })
            .await
            .unwrap();
    }
    for stack in ["payments-api", "payments-db"] {
        admin
            .create_stack(&StackInput {
                id: stack.into(),
                space: Some("payments".into()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    w.goto(&format!("{base}/spaces")).await;
    let tree = w.text("table").await;
    assert!(tree.contains("yes, from platform"), "{tree}");
    w.shoot("spaces").await;
    w.goto(&format!("{base}/stacks")).await;
    w.select("form.switcher select", "payments").await;
    w.click("form.switcher button").await;
    let listed = w.text("table").await;
    assert!(
        listed.contains("payments-api") && !listed.contains("dns"),
        "{listed}"
    );
    w.shoot("space-switcher").await;

    // Sign out: the session ends on the server, not only in the browser.
    w.click("form.sign-out button").await;
    assert_eq!(w.path().await, "/sign-in");
    assert_eq!(w.text(".flash").await, "Signed out.");
    w.goto(&format!("{base}/keys")).await;
    assert_eq!(w.path().await, "/sign-in");
    let audit = admin.audit(&AuditFilter::default()).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.outcome.as_str()))
        .collect();
    for expected in [
        ("console.sign_in", "ok"),
        ("console.sign_in", "forbidden"),
        ("console.sign_out", "ok"),
    ] {
        assert!(actions.contains(&expected), "{expected:?}: {actions:?}");
    }
    // Every page shot above was checked by axe-core: no serious or
    // critical WCAG 2.2 A/AA finding on any of them.
    let (report, grave) = browser.accessibility_report();
    println!("accessibility (axe-core, findings per page):\n{report}");
    assert_eq!(grave, 0, "{report}");
    browser.client.close().await.unwrap();
}

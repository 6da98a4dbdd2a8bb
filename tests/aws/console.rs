//! The console in a real browser: Debian's Chromium, headless, driven over
//! WebDriver (chromedriver) by fantoccini, against a real `deputy serve`
//! whose AWS is the emulator. The operator's whole path: sign in, create an
//! integration (a bad role ARN is shown next to its field), take the trust
//! policy from the page, create the role from it, attach a stack as Read &
//! Write (verified by the broker), watch Verify turn red on a role made
//! unsafe, show its retries live on a role that trusts someone else, and
//! turn green again, read the audit trail, make and revoke a key, make
//! and delete a runner trust,
//! sign out. Runner keys cannot sign in and a post without the CSRF token
//! is refused.
//!
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

    // The role comes before the attachment (an attach is verified against
    // it): the Trust Policy tab shows the policy for a stack not attached
    // yet, and the role is created from exactly what the page shows.
    w.click("nav.tabs a[href$='/trust-policy']").await;
    w.press("input[name=stack][value=net]").await;
    w.click("form.filters button[type=submit]").await;
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
    assert_eq!(w.text("#state").await, "failed");
    assert!(w.has("#verification .error").await);
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
               if (lines.length) sessionStorage.setItem('progress', JSON.stringify(lines));
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
    assert_eq!(w.text("#state").await, "failed");
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

    // A key: its secret shown once, then revoked.
    w.goto(&format!("{base}/keys")).await;
    w.fill("#stack_id", "dns").await;
    w.fill("#description", "browser test").await;
    w.click("form[action='/keys'] button[type=submit]").await;
    let secret = w.text("#new-key").await;
    assert!(secret.starts_with("dpk_"), "{secret}");
    w.shoot("keys-created").await;
    let key_id = secret[4..20].to_string();
    w.click(&format!("form[action='/keys/{key_id}/revoke'] button"))
        .await;
    assert!(!w.source().await.contains(&secret));
    assert!(
        admin
            .keys()
            .await
            .unwrap()
            .iter()
            .any(|k| k.id == key_id && k.revoked_at.is_some())
    );
    w.shoot("keys").await;

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
    w.click(&format!(
        "form[action='/runner-trusts/{}/delete'] button",
        made[0].id
    ))
    .await;
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

    // Sign out: the session ends on the server, not only in the browser.
    w.click("form.sign-out button").await;
    assert_eq!(w.path().await, "/sign-in");
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
    browser.client.close().await.unwrap();
}

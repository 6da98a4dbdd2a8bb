//! The CLI's object commands (`stack`, `integration`, `attachment`, `key`,
//! `runner-trust`, `audit`) against a live broker.

use std::process::Command;

use deputy::wire::StackInput;

use crate::support::{Backend, TestBroker};

fn deputy(b: &TestBroker, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args(args)
        .env("DEPUTY_ENDPOINT", &b.base)
        .env("DEPUTY_TOKEN", &b.admin_token)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_commands_create_list_and_revoke() {
    let b = TestBroker::start(Backend::Sqlite).await;
    b.admin()
        .create_stack(&StackInput {
            id: "net".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let out = deputy(
        &b,
        &[
            "token",
            "create",
            "--stack",
            "net",
            "--phase",
            "read",
            "--description",
            "ci runner",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        token.starts_with("dpk_"),
        "only the token on stdout: {token}"
    );
    let id = &token[4..20];
    assert!(String::from_utf8_lossy(&out.stderr).contains("shown only once"));

    let list = String::from_utf8(deputy(&b, &["token", "list"]).stdout).unwrap();
    let line = list
        .lines()
        .find(|l| l.starts_with(id))
        .expect("new key listed");
    assert!(
        line.contains("runner")
            && line.contains("net")
            && line.contains("read")
            && line.contains("ci runner"),
        "{line}"
    );
    assert!(!list.contains(&token[21..]), "no secret in the listing");

    assert!(deputy(&b, &["token", "revoke", id]).status.success());
    let again = deputy(&b, &["token", "revoke", id]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("was already revoked"));

    let bad = deputy(&b, &["token", "create", "--role", "runner"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--stack"));
    // A runner key's phases are chosen, never defaulted.
    let unscoped = deputy(&b, &["token", "create", "--stack", "net"]);
    assert!(!unscoped.status.success());
    assert!(String::from_utf8_lossy(&unscoped.stderr).contains("--phase"));

    // Runner trusts: create prints the trust as JSON, list shows it,
    // delete removes it; a rule the broker refuses is explained.
    let out = deputy(
        &b,
        &[
            "runner-trust",
            "create",
            "--stack",
            "net",
            "--issuer",
            "https://token.actions.githubusercontent.com",
            "--subject",
            "repo:acme/net:ref:refs/heads/main",
            "--claim",
            "event_name=push",
            "--phase",
            "write",
            "--output",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trust: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(trust["audience"], "deputy", "the CLI's default audience");
    assert_eq!(trust["claims"]["event_name"], "push");
    let trust_id = trust["id"].as_str().unwrap();
    let list = String::from_utf8(deputy(&b, &["runner-trust", "list"]).stdout).unwrap();
    assert!(
        list.lines()
            .any(|l| l.starts_with(trust_id) && l.contains("write")),
        "{list}"
    );
    let refused = deputy(
        &b,
        &[
            "runner-trust",
            "create",
            "--stack",
            "net",
            "--issuer",
            "https://gitlab.com",
            "--subject",
            "*",
            "--phase",
            "read",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("would accept tokens from anyone's pipeline")
    );
    assert!(
        deputy(&b, &["runner-trust", "delete", trust_id])
            .status
            .success()
    );
    assert!(
        !deputy(&b, &["runner-trust", "show", trust_id])
            .status
            .success()
    );
}

fn ok(b: &TestBroker, args: &[&str]) -> String {
    let out = deputy(b, args);
    assert!(
        out.status.success(),
        "deputy {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What a command that must fail printed on stderr.
fn deputy_fails(b: &TestBroker, args: &[&str]) -> String {
    let out = deputy(b, args);
    assert!(!out.status.success(), "deputy {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(b: &TestBroker, args: &[&str]) -> serde_json::Value {
    let mut with = args.to_vec();
    with.extend(["--output", "json"]);
    serde_json::from_str(&ok(b, &with)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_object_has_list_show_create_update_delete_in_table_and_json() {
    let b = TestBroker::start(Backend::Sqlite).await;

    // Spaces.
    let space = json(
        &b,
        &[
            "space",
            "create",
            "platform",
            "--name",
            "Platform team",
            "--inherit",
            "true",
        ],
    );
    assert_eq!(
        (&space["parent_id"], &space["inherit"]),
        (&"root".into(), &true.into())
    );
    let updated = json(
        &b,
        &["space", "update", "platform", "--description", "roles"],
    );
    assert_eq!(
        (&updated["name"], &updated["description"]),
        (&"Platform team".into(), &"roles".into()),
        "update keeps what it is not given"
    );
    let table = ok(&b, &["space", "list"]);
    assert!(
        table.contains("platform") && table.contains("root"),
        "{table}"
    );
    let child = json(&b, &["space", "create", "scratch", "--parent", "platform"]);
    assert_eq!(child["parent_id"], "platform");
    let refused = deputy_fails(&b, &["space", "delete", "platform"]);
    assert!(refused.contains("space_not_empty"), "{refused}");
    ok(&b, &["space", "delete", "scratch"]);

    // Stacks.
    let created = json(
        &b,
        &[
            "stack",
            "create",
            "net",
            "--space",
            "platform",
            "--name",
            "Network",
            "--label",
            "team=core",
        ],
    );
    assert_eq!(created["id"], "net");
    assert_eq!(created["labels"]["team"], "core");
    let updated = json(&b, &["stack", "update", "net", "--description", "VPCs"]);
    assert_eq!(
        updated["name"], "Network",
        "update keeps what it is not given"
    );
    assert_eq!(updated["description"], "VPCs");
    let table = ok(&b, &["stack", "list"]);
    assert_eq!(
        table
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["ID", "NAME", "SPACE", "LABELS"]
    );
    assert!(
        table.contains("net") && table.contains("team=core"),
        "{table}"
    );

    // Integrations: the id the import docs point at is in the list.
    let integration = json(
        &b,
        &[
            "integration",
            "create",
            "--name",
            "prod",
            "--role-arn",
            "arn:aws:iam::210987654321:role/deploy",
            "--label",
            "env=prod",
        ],
    );
    let id = integration["id"].as_str().unwrap().to_string();
    let table = ok(&b, &["integration", "list"]);
    assert!(table.contains(&id), "{table}");
    let filtered = json(&b, &["integration", "list", "--label", "env=dev"]);
    assert_eq!(filtered, serde_json::json!([]), "filters as the API does");
    let by_label = json(&b, &["integration", "list", "--label", "env=prod"]);
    assert_eq!(by_label[0]["id"], id.as_str());
    let shown = json(&b, &["integration", "show", "prod", "--name"]);
    assert_eq!(shown["id"], id.as_str());
    let updated = json(&b, &["integration", "update", &id, "--space", "platform"]);
    assert_eq!(updated["space"], "platform");
    assert_eq!(updated["labels"]["env"], "prod");

    // Attachments, by the id Terraform imports them with.
    let attachment = json(
        &b,
        &[
            "attachment",
            "create",
            "--integration",
            &id,
            "--stack",
            "net",
            "--write",
            "false",
        ],
    );
    let attachment_id = format!("{id}/net");
    assert_eq!(attachment["id"], attachment_id.as_str());
    assert_eq!(attachment["write"], false);
    let updated = json(
        &b,
        &["attachment", "update", &attachment_id, "--write", "true"],
    );
    assert_eq!(
        (updated["read"].clone(), updated["write"].clone()),
        (true.into(), true.into())
    );
    let shown = ok(&b, &["attachment", "show", &attachment_id]);
    assert!(
        shown.contains(&format!("external_id.write  acme@{id}@net@write")),
        "{shown}"
    );
    let of_stack = ok(&b, &["stack", "show", "net"]);
    assert!(
        of_stack.contains(&format!("attached     {id} (read,write)")),
        "{of_stack}"
    );
    let bad = deputy(&b, &["attachment", "show", "no-slash"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use INTEGRATION_ID/STACK_ID"));

    // Deleting in the wrong order is refused with the broker's reason.
    let refused = deputy(&b, &["stack", "delete", "net"]);
    assert!(!refused.status.success());
    ok(&b, &["attachment", "delete", &attachment_id]);
    ok(&b, &["integration", "delete", &id]);
    ok(&b, &["stack", "delete", "net"]);
    assert_eq!(json(&b, &["stack", "list"]), serde_json::json!([]));

    // Keys: `key` is `token`; show and delete by id.
    let secret = ok(
        &b,
        &["key", "create", "--role", "admin", "--description", "ci"],
    );
    let key_id = secret
        .trim()
        .strip_prefix("dpk_")
        .unwrap()
        .split('_')
        .next()
        .unwrap();
    let shown = json(&b, &["key", "show", key_id]);
    assert_eq!(shown["description"], "ci");
    let list = ok(&b, &["key", "list"]);
    assert!(list.lines().next().unwrap().contains("LAST USED"), "{list}");
    ok(&b, &["key", "delete", key_id]);

    // The audit trail saw all of it, newest first, filtered as the API does.
    let page = json(&b, &["audit", "--action", "stack.create", "--limit", "5"]);
    assert_eq!(page["items"][0]["target"], "stack/net");
    let table = ok(&b, &["audit", "--limit", "2"]);
    assert_eq!(table.lines().count(), 3, "a header and two events: {table}");
}

/// The object commands agree: `stack list` filters as `integration list`
/// does, an integration is named by id or name everywhere, every command
/// prints `--output table|json` with the same data in both, and `audit
/// --stack` finds the admin events about the stack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_commands_take_the_same_filters_identifiers_and_outputs() {
    let b = TestBroker::start(Backend::Sqlite).await;
    let ids = |list: serde_json::Value| {
        let mut ids: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };

    // `stack list --space/--label`, as `integration list`: all must match.
    // Its stacks use the root's integrations too.
    ok(&b, &["space", "create", "platform", "--inherit", "true"]);
    ok(
        &b,
        &[
            "stack",
            "create",
            "net",
            "--space",
            "platform",
            "--label",
            "team=core",
            "--label",
            "env=prod",
        ],
    );
    ok(&b, &["stack", "create", "dns", "--label", "team=core"]);
    ok(&b, &["stack", "create", "app"]);
    assert_eq!(
        ids(json(
            &b,
            &[
                "stack",
                "list",
                "--label",
                "team=core",
                "--label",
                "env=prod"
            ]
        )),
        ["net"]
    );
    assert_eq!(
        ids(json(&b, &["stack", "list", "--label", "team=core"])),
        ["dns", "net"]
    );
    assert_eq!(
        ids(json(&b, &["stack", "list", "--space", "platform"])),
        ["net"]
    );
    assert_eq!(
        ids(json(&b, &["stack", "list", "--space", "root"])),
        ["app", "dns"]
    );
    let table = ok(&b, &["stack", "list", "--label", "team=core"]);
    assert!(
        table.contains("dns") && table.contains("net") && !table.contains("app"),
        "{table}"
    );

    // An integration by its name wherever its id is taken.
    let integration = json(
        &b,
        &[
            "integration",
            "create",
            "--name",
            "prod-role",
            "--role-arn",
            "arn:aws:iam::210987654321:role/deploy",
        ],
    );
    let id = integration["id"].as_str().unwrap().to_string();
    assert_ne!(id, "prod-role");
    let shown = json(&b, &["integration", "show", "prod-role"]);
    assert_eq!(shown["id"], id.as_str());
    let shown = json(&b, &["integration", "show", &id]);
    assert_eq!(shown["name"], "prod-role");
    let updated = json(
        &b,
        &[
            "integration",
            "update",
            "prod-role",
            "--description",
            "by name",
        ],
    );
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["description"], "by name");
    let attachment = json(
        &b,
        &[
            "attachment",
            "create",
            "--integration",
            "prod-role",
            "--stack",
            "net",
            "--write",
            "false",
        ],
    );
    let attachment_id = format!("{id}/net");
    assert_eq!(attachment["id"], attachment_id.as_str());
    let listed = json(&b, &["attachment", "list", "--integration", "prod-role"]);
    assert_eq!(ids(listed), std::slice::from_ref(&attachment_id));
    let shown = json(&b, &["attachment", "show", "prod-role/net"]);
    assert_eq!(shown["id"], attachment_id.as_str());
    let updated = json(
        &b,
        &["attachment", "update", "prod-role/net", "--write", "true"],
    );
    assert_eq!(updated["write"], true);
    let missing = deputy(&b, &["integration", "show", "no-such-role"]);
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("no integration with id or name no-such-role")
            && err.contains("deputy integration list"),
        "{err}"
    );
    // `attachment list` needs exactly one of --integration and --stack.
    let neither = deputy(&b, &["attachment", "list"]);
    assert!(!neither.status.success());
    let both = deputy(
        &b,
        &["attachment", "list", "--integration", &id, "--stack", "net"],
    );
    assert!(!both.status.success());
    let help = ok(&b, &["attachment", "list", "--help"]);
    assert!(help.contains("one of --integration or --stack"), "{help}");

    // `stack show --output json` holds the attachments its table shows.
    let shown = json(&b, &["stack", "show", "net"]);
    assert_eq!(shown["id"], "net");
    assert_eq!(shown["attachments"][0]["id"], attachment_id.as_str());
    assert_eq!(shown["attachments"][0]["write"], true);
    let table = ok(&b, &["stack", "show", "net"]);
    assert!(table.contains(&format!("{id} (read,write)")), "{table}");

    // Runner trusts print as table or JSON, with the same fields.
    let trust = json(
        &b,
        &[
            "runner-trust",
            "create",
            "--stack",
            "net",
            "--issuer",
            "https://token.actions.githubusercontent.com",
            "--subject",
            "repo:acme/net:ref:refs/heads/main",
            "--phase",
            "read",
        ],
    );
    let trust_id = trust["id"].as_str().unwrap().to_string();
    assert_eq!(json(&b, &["runner-trust", "show", &trust_id]), trust);
    assert_eq!(
        json(&b, &["runner-trust", "list"]),
        serde_json::json!([trust.clone()])
    );
    let table = ok(&b, &["runner-trust", "show", &trust_id]);
    for (field, value) in trust.as_object().unwrap() {
        assert!(
            table.lines().any(|l| l.starts_with(field.as_str())),
            "field {field} ({value}) missing from the table:\n{table}"
        );
    }
    assert!(
        table.contains("issuer") && table.contains("https://token.actions.githubusercontent.com"),
        "{table}"
    );
    let list = ok(&b, &["runner-trust", "list"]);
    assert!(
        list.lines().next().unwrap().starts_with("ID")
            && list
                .lines()
                .any(|l| l.starts_with(&trust_id) && l.contains("read")),
        "{list}"
    );
    let updated = json(
        &b,
        &[
            "runner-trust",
            "update",
            &trust_id,
            "--stack",
            "net",
            "--issuer",
            "https://token.actions.githubusercontent.com",
            "--subject",
            "repo:acme/net:ref:refs/heads/main",
            "--phase",
            "write",
        ],
    );
    assert_eq!(updated["phases"], serde_json::json!(["write"]));

    // `audit --stack` finds the admin events about the stack (its own and
    // its attachments'), as `--target` does, and no other stack's.
    let page = json(&b, &["audit", "--stack", "net", "--limit", "100"]);
    let events: Vec<(String, String)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        events.contains(&("stack.create".to_string(), "stack/net".to_string())),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(action, target)| action == "attachment.create"
                && *target == attachment_id_target(&id)),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .all(|(_, target)| target != "stack/dns" && target != "stack/app"),
        "{events:?}"
    );
    let by_name = json(
        &b,
        &["audit", "--integration", "prod-role", "--limit", "100"],
    );
    assert!(
        by_name["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["target"] == format!("integration/{id}").as_str()),
        "{by_name}"
    );

    // A run for a phase no attachment serves says what to do.
    let runner = ok(
        &b,
        &["token", "create", "--stack", "app", "--phase", "write"],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args([
            "credential-process",
            "--stack",
            "app",
            "--phase",
            "write",
            "--run-id",
            "run-1",
        ])
        .env("DEPUTY_ENDPOINT", &b.base)
        .env("DEPUTY_TOKEN", runner.trim())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stack \"app\" has no integration attached for its write phase")
            && err.contains("deputy attachment create --integration ID --stack app"),
        "{err}"
    );
    // Detach and delete by name.
    ok(&b, &["attachment", "delete", "prod-role/net"]);
    ok(&b, &["integration", "delete", "prod-role"]);
    assert!(
        !deputy(&b, &["integration", "show", &id]).status.success(),
        "deleted by name"
    );
}

/// The audit target of the attachment of `integration` to stack `net`.
fn attachment_id_target(integration: &str) -> String {
    format!("attachment/{integration}/net")
}

/// With no usable admin key left, whoever holds the store mints one
/// (#32): into a new 0600 file, audited, usable at once by the running
/// broker; never over an existing file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_admin_key_from_the_store() {
    use std::os::unix::fs::PermissionsExt;
    let b = TestBroker::start(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recovery.key");
    let store = format!("sqlite://{}/deputy.db", b.data_dir().display());
    let recover = || {
        Command::new(env!("CARGO_BIN_EXE_deputy"))
            .args(["recover-admin-key", "--store", &store, "--key-file"])
            .arg(&file)
            .output()
            .unwrap()
    };
    let out = recover();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "the key goes to the file only");
    let token = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert!(token.starts_with("dpk_"));
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let recovered = b.client(&token);
    let keys = recovered.keys().await.unwrap();
    assert!(
        keys.iter()
            .any(|k| token.starts_with(&format!("dpk_{}_", k.id))
                && k.role == deputy::wire::KeyRole::Admin),
        "{keys:?}"
    );
    let audited = recovered
        .audit(&deputy::wire::AuditFilter {
            action: Some("key.recover".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audited.len(), 1, "{audited:?}");
    let again = recover();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("name a new file"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), token);
}

/// One rule for where the API key comes from: `--token`, then
/// `--token-file`, then `DEPUTY_TOKEN_FILE`, then `DEPUTY_TOKEN`. Giving
/// several is not an error, and a key file that holds no key says which
/// file and what it must hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_beats_a_file_beats_a_variable() {
    let b = TestBroker::start(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.key");
    std::fs::write(&good, format!("{}\n", b.admin_token)).unwrap();
    let wrong = dir.path().join("wrong.key");
    std::fs::write(&wrong, "dpk_0123456789abcdef_not-the-secret\n").unwrap();
    let empty = dir.path().join("empty.key");
    std::fs::write(&empty, "\n").unwrap();
    let run = |args: &[&str], env: &[(&str, &std::path::Path)], token_env: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_deputy"));
        cmd.args(["stack", "list"])
            .args(args)
            .env("DEPUTY_ENDPOINT", &b.base)
            .env_remove("DEPUTY_TOKEN")
            .env_remove("DEPUTY_TOKEN_FILE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(t) = token_env {
            cmd.env("DEPUTY_TOKEN", t);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let bad = "dpk_0123456789abcdef_wrong";
    let good_flag = good.to_str().unwrap();
    // A file beats a variable.
    let (ok, err) = run(&[], &[("DEPUTY_TOKEN_FILE", &good)], Some(bad));
    assert!(ok, "{err}");
    // The flag --token-file beats the variable DEPUTY_TOKEN_FILE.
    let (ok, err) = run(
        &["--token-file", good_flag],
        &[("DEPUTY_TOKEN_FILE", &wrong)],
        None,
    );
    assert!(ok, "{err}");
    // --token beats every file.
    let (ok, err) = run(
        &["--token", &b.admin_token],
        &[("DEPUTY_TOKEN_FILE", &wrong)],
        None,
    );
    assert!(ok, "{err}");
    // The variable alone still works.
    let (ok, err) = run(&[], &[], Some(&b.admin_token));
    assert!(ok, "{err}");
    // A file that holds no key names itself and what it must hold.
    let (ok, err) = run(&[], &[("DEPUTY_TOKEN_FILE", &empty)], Some(&b.admin_token));
    assert!(!ok);
    assert!(
        err.contains(&format!("the key file {} is empty", empty.display()))
            && err.contains("dpk_<16 hex digits>_<secret>"),
        "{err}"
    );
    std::fs::write(&empty, "Bearer something\n").unwrap();
    let (ok, err) = run(&[], &[("DEPUTY_TOKEN_FILE", &empty)], None);
    assert!(!ok);
    assert!(err.contains("does not hold an API key"), "{err}");
}

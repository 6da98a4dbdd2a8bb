//! The broker's AWS side against an STS emulator on loopback that enforces
//! trust policies (`tools/sts-emulator`): verification and credential
//! vending through real HTTP.

mod emulator;
#[path = "../broker/support.rs"]
#[allow(dead_code, unused_macros)]
mod support;
#[path = "../terraform/support.rs"]
#[allow(dead_code)]
mod tf;

use emulator::Emulator;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use deputy::api::*;
use deputy::model::Phase;
use support::{Backend, PRINCIPAL, TestBroker};

/// One test, scenarios in sequence: the broker reads AWS credentials from
/// the process environment, which is set once here before any thread runs.
#[test]
fn verification_and_credentials_against_an_enforcing_sts() {
    let emulator = Emulator::start();
    // SAFETY: set before the runtime or any other thread of this test
    // binary starts; this binary has this one test.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEBROKER001");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "emulator-secret");
        std::env::remove_var("AWS_SESSION_TOKEN");
        std::env::remove_var("AWS_PROFILE");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // The emulator's caller for static keys is its default account root.
        let b = TestBroker::start_with(Backend::Sqlite, Some(emulator.endpoint.clone()), 15).await;
        let admin = b.admin();
        let caller = "arn:aws:iam::123456789012:root";
        admin.create_stack(&StackInput { id: "net".into(), ..Default::default() }).await.unwrap();

        let integration = |name: &str, role: &str| IntegrationInput {
            name: name.into(),
            role_arn: role.into(),
            ..Default::default()
        };
        // Integration ids appear in External IDs, so create first, then
        // the role that trusts them.
        let safe = admin.create_integration(&integration("safe", "arn:aws:iam::123456789012:role/safe")).await.unwrap();
        let ids = |id: &str| vec![format!("acme@{id}@net@read"), format!("acme@{id}@net@write")];
        emulator.role("safe", caller, &ids(&safe.id), 0);
        admin.attach(&safe.id, &AttachmentInput { stack_id: "net".into(), read: true, write: true }).await.unwrap();
        let report: serde_json::Value = reqwest::Client::new()
            .post(b.url(&format!("/v1/integrations/{}/verify", safe.id)))
            .bearer_auth(&b.admin_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(report["ok"], true, "{report}");
        let steps: Vec<&str> = report["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(
            steps,
            [
                "assume_role_with_external_id:read",
                "get_caller_identity:read",
                "assume_role_with_external_id:write",
                "get_caller_identity:write",
                "assume_role_without_external_id"
            ]
        );
        assert!(admin.integration(&safe.id).await.unwrap().last_verified_at.is_some());

        // A role without the condition is refused, with the statement to use.
        let open = admin.create_integration(&integration("open", "arn:aws:iam::123456789012:role/open")).await.unwrap();
        emulator.role("open", caller, &[], 0);
        let verify = |id: deputy::model::IntegrationId| {
            let url = b.url(&format!("/v1/integrations/{id}/verify?stack_id=net"));
            let token = b.admin_token.clone();
            async move { reqwest::Client::new().post(url).bearer_auth(token).send().await.unwrap() }
        };
        let refused = verify(open.id.clone()).await;
        assert_eq!(refused.status(), 409);
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "verification_failed");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("can be assumed without an External ID: its trust policy lacks an sts:ExternalId condition"), "{detail}");
        assert!(detail.contains(&format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{PRINCIPAL}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":["acme@{0}@net@read","acme@{0}@net@write"]}}}}}}"#, open.id)), "{detail}");

        // Attaching it is refused and leaves nothing attached.
        admin.create_stack(&StackInput { id: "app".into(), ..Default::default() }).await.unwrap();
        let attach_open = reqwest::Client::new()
            .post(b.url(&format!("/v1/integrations/{}/attachments", open.id)))
            .bearer_auth(&b.admin_token)
            .json(&serde_json::json!({"stack_id": "app"}))
            .send()
            .await
            .unwrap();
        assert_eq!(attach_open.status(), 409);
        let body: serde_json::Value = attach_open.json().await.unwrap();
        assert_eq!(body["code"], "verification_failed");
        assert!(admin.attachments_of_integration(&open.id).await.unwrap().is_empty());
        let recorded = admin.integration(&open.id).await.unwrap().last_verification.unwrap();
        assert!(!recorded.ok);

        // `deputy verify` prints the steps, and fails for the open role.
        let verify_cli = |integration: deputy::model::IntegrationId| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_deputy"));
            cmd.args(["verify", "--integration", &integration, "--stack", "net"])
                .env("DEPUTY_ENDPOINT", &b.base)
                .env("DEPUTY_TOKEN", &b.admin_token);
            tokio::task::spawn_blocking(move || cmd.output().unwrap())
        };
        let good = verify_cli(safe.id.clone()).await.unwrap();
        assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
        let printed = String::from_utf8_lossy(&good.stdout).into_owned();
        assert!(
            printed.lines().any(|l| l.starts_with("assume_role_without_external_id") && l.contains(" denied ")),
            "{printed}"
        );
        let bad = verify_cli(open.id.clone()).await.unwrap();
        assert_eq!(bad.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("lacks an sts:ExternalId condition"));

        // Through Terraform, the failed attachment is a diagnostic naming the
        // missing condition, and nothing is left in state.
        let env = [("DEPUTY_ENDPOINT", b.base.clone()), ("DEPUTY_TOKEN", b.admin_token.clone())];
        let config = format!(
            "resource \"deputy_aws_integration_attachment\" \"open\" {{\n  integration_id = \"{}\"\n  stack_id = \"app\"\n}}\n",
            open.id
        );
        let errors = tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let ws = tf::Workspace::with_env(&config, &env);
            let errors = ws.fails(&["apply", "-auto-approve", "-no-color"]);
            let state = ws.run(&["state", "list"]);
            (errors, tf::text(&state.stdout))
        })
        .await
        .unwrap();
        tf::assert_contains(&errors.0, "Error: AWS role verification failed");
        tf::assert_contains(&errors.0, "can be assumed without an External ID: its trust policy lacks an sts:ExternalId condition");
        assert!(errors.1.trim().is_empty(), "nothing in state: {}", errors.1);

        // A role that only becomes assumable after a few seconds passes after retries.
        let slow = admin.create_integration(&integration("slow", "arn:aws:iam::123456789012:role/slow")).await.unwrap();
        emulator.role("slow", caller, &ids(&slow.id), 4);
        let started = Instant::now();
        let passed = verify(slow.id.clone()).await;
        let took = started.elapsed();
        let report: serde_json::Value = passed.json().await.unwrap();
        assert_eq!(report["ok"], true, "{report}");
        assert!(report["steps"][0]["attempts"].as_u64().unwrap() > 1, "{report}");
        assert!(took >= Duration::from_secs(3), "{took:?}");

        // A role trusting someone else fails once the retry budget is spent.
        let foreign = admin.create_integration(&integration("foreign", "arn:aws:iam::123456789012:role/foreign")).await.unwrap();
        emulator.role("foreign", "arn:aws:iam::999999999999:role/other-deputy", &ids(&foreign.id), 0);
        let started = Instant::now();
        let failed = verify(foreign.id.clone()).await;
        assert_eq!(failed.status(), 409);
        assert!(started.elapsed() < Duration::from_secs(30), "bounded by the retry budget");
        let body: serde_json::Value = failed.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains("AccessDenied"), "{body}");

        // Credentials for a run: they work, and name the run.
        let runner = admin
            .create_key(&ApiKeyInput {
                phases: Some(vec![Phase::Write]),
                ..ApiKeyInput::runner("net")
            })
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let issue = |phase: &str, run: &str| {
            http.post(b.url("/v1/credentials"))
                .bearer_auth(&runner.token)
                .json(&serde_json::json!({"phase": phase, "run_id": run}))
                .send()
        };
        let IssuedCredentials::Broker(issued) = issue("write", "run 42/apply").await.unwrap().json().await.unwrap() else {
            panic!("broker mode")
        };
        assert_eq!(issued.session_name, "run-42-apply");
        let sts = deputy::sts::Sts::load(Some(&emulator.endpoint)).await;
        let creds = deputy::sts::Credentials {
            access_key_id: issued.access_key_id.clone(),
            secret_access_key: deputy::sts::Secret::new(issued.secret_access_key.clone()),
            session_token: deputy::sts::Secret::new(issued.session_token.clone()),
            expiration: 0,
            assumed_role_arn: String::new(),
        };
        let who = sts.caller_arn_as(&creds, "us-east-1").await.unwrap();
        assert_eq!(who, "arn:aws:sts::123456789012:assumed-role/safe/run-42-apply");
        assert_eq!(issue("read", "r1").await.unwrap().status(), 403, "runner key scoped to write");

        // `deputy exec`: the command sees working credentials and its output
        // has the secrets masked; `deputy credential-process` prints JSON.
        let deputy = |args: &[&str]| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_deputy"));
            cmd.args(args)
                .env("DEPUTY_ENDPOINT", &b.base)
                .env("DEPUTY_TOKEN", &runner.token)
                .env("AWS_ENDPOINT_URL", &emulator.endpoint)
                .env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_SECRET_ACCESS_KEY");
            cmd
        };
        let script = "import boto3,os;print(boto3.client('sts').get_caller_identity()['Arn']);print('leak', os.environ['AWS_SECRET_ACCESS_KEY']);print('token', os.environ.get('DEPUTY_TOKEN'))";
        let out = { let mut cmd = deputy(&["exec", "--stack", "net", "--phase", "write", "--run-id", "ci-7", "--", "python3", "-c", script]); tokio::task::spawn_blocking(move || cmd.output().unwrap()) }
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines, ["arn:aws:sts::123456789012:assumed-role/safe/ci-7", "leak ***", "token None"]);
        // `deputy exec --refresh`: the SDK reads credentials from the loopback
        // endpoint, which renews them (here on every request, as if each were
        // near expiry) and refuses callers without the token.
        let script = "import boto3,os,json,urllib.request,urllib.error\nuri=os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI']\ndef get(tok):\n  r=urllib.request.Request(uri,headers={'Authorization':tok})\n  return json.load(urllib.request.urlopen(r))['AccessKeyId']\ntok=os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN']\nprint(get(tok)!=get(tok))\ntry:\n  get('wrong')\nexcept urllib.error.HTTPError as e:\n  print(e.code)\nprint(boto3.client('sts').get_caller_identity()['Arn'])\nprint('AWS_ACCESS_KEY_ID' in os.environ)";
        let out = {
            let mut cmd = deputy(&["exec", "--refresh", "--refresh-before", "4000", "--stack", "net", "--phase", "write", "--run-id", "long-run", "--", "python3", "-c", script]);
            tokio::task::spawn_blocking(move || cmd.output().unwrap())
        }
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(stdout.lines().collect::<Vec<_>>(), ["True", "401", "arn:aws:sts::123456789012:assumed-role/safe/long-run", "False"]);

        let process = { let mut cmd = deputy(&["credential-process", "--stack", "net", "--phase", "write", "--run-id", "ci-8"]); tokio::task::spawn_blocking(move || cmd.output().unwrap()) }
        .await
        .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&process.stdout).expect("credential_process JSON");
        assert_eq!(json["Version"], 1);
        assert!(json["AccessKeyId"].as_str().is_some_and(|k| !k.is_empty()));
        assert!(json["Expiration"].as_str().is_some_and(|e| e.ends_with('Z')));
        let wrong_stack = { let mut cmd = deputy(&["credential-process", "--stack", "other", "--phase", "write", "--run-id", "x1"]); tokio::task::spawn_blocking(move || cmd.output().unwrap()) }
        .await
        .unwrap();
        assert!(!wrong_stack.status.success());
        assert!(String::from_utf8_lossy(&wrong_stack.stderr).contains("is for stack net, not other"));

        // Worker mode: the broker hands out the role, External ID and
        // session name, and `deputy exec` assumes the role with the worker's
        // own AWS identity (here the emulator's account root, as the broker).
        let worker = admin
            .create_integration(&IntegrationInput {
                generate_credentials_in_worker: true,
                ..integration("worker", "arn:aws:iam::123456789012:role/worker")
            })
            .await
            .unwrap();
        emulator.role("worker", caller, &[format!("acme@{}@app@write", worker.id)], 0);
        admin.attach(&worker.id, &AttachmentInput { stack_id: "app".into(), read: false, write: true }).await.unwrap();
        let app_runner = admin
            .create_key(&ApiKeyInput { description: "worker".into(), ..ApiKeyInput::runner("app") })
            .await
            .unwrap();
        let out = {
            let mut cmd = deputy(&["exec", "--stack", "app", "--phase", "write", "--run-id", "ci-w1", "--", "python3", "-c", "import boto3;print(boto3.client('sts').get_caller_identity()['Arn'])"]);
            cmd.env("DEPUTY_TOKEN", &app_runner.token)
                .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEBROKER001")
                .env("AWS_SECRET_ACCESS_KEY", "emulator-secret");
            tokio::task::spawn_blocking(move || cmd.output().unwrap())
        }
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(stdout.trim(), "arn:aws:sts::123456789012:assumed-role/worker/ci-w1");
        let vended = admin.audit(&AuditFilter { action: Some("credentials.issue".into()), limit: Some(1), ..Default::default() }).await.unwrap();
        assert_eq!((vended[0].outcome.as_str(), vended[0].detail.as_str()), ("ok", "worker"));

        // A broker running on role credentials discovers its principal as
        // the role (not the session), and knows sessions are capped at 1 h.
        // It logs at debug level, and its log must hold none of its secrets.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let mut chained = tokio::process::Command::new(env!("CARGO_BIN_EXE_deputy"))
            .args(["serve", "--account", "acme", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--store")
            .arg(dir.path().join("d.db"))
            .env("DEPUTY_AWS_ENDPOINT_URL", &emulator.endpoint)
            .env("AWS_ACCESS_KEY_ID", issued.access_key_id.clone())
            .env("AWS_SECRET_ACCESS_KEY", issued.secret_access_key.clone())
            .env("AWS_SESSION_TOKEN", issued.session_token.clone())
            .env("DEPUTY_LOG", "debug")
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let token_file = dir.path().join("admin.key");
        let mut account = None;
        for _ in 0..100 {
            if let Ok(token) = std::fs::read_to_string(&token_file) {
                let c = deputy::client::Client::new(format!("http://127.0.0.1:{port}/").parse().unwrap(), token.trim().into(), Duration::from_secs(5));
                if let Ok(a) = c.account().await {
                    account = Some(a);
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = chained.start_kill();
        assert_eq!(account.expect("discovering broker started").aws_principal_arn.as_str(), "arn:aws:iam::123456789012:role/safe");
        let log = chained.wait_with_output().await.unwrap().stderr;
        let log = String::from_utf8_lossy(&log);
        assert!(log.contains("DEBUG"), "the broker logged at debug level:\n{log}");
        let chained_token = std::fs::read_to_string(&token_file).unwrap();
        for secret in [
            issued.secret_access_key.as_str(),
            issued.session_token.as_str(),
            &chained_token.trim()[21..],
        ] {
            assert!(!log.contains(secret), "a secret reached the broker log:\n{log}");
        }

        let events = admin.audit(&AuditFilter { action: Some("credentials.issue".into()), ..Default::default() }).await.unwrap();
        // `ephemeral "deputy_aws_credentials"`: opened by Terraform with the
        // runner key, and nothing of it in the state.
        let env = [
            ("DEPUTY_ENDPOINT", b.base.clone()),
            ("DEPUTY_TOKEN", b.admin_token.clone()),
            ("DEPUTY_RUNNER_TOKEN", runner.token.clone()),
        ];
        let applied = tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let ws = tf::Workspace::with_env(
                "ephemeral \"deputy_aws_credentials\" \"c\" {\n  stack_id = \"net\"\n  phase = \"write\"\n  run_id = \"tf-apply-1\"\n}\nresource \"terraform_data\" \"marker\" {\n  input = \"applied\"\n}\n",
                &env,
            );
            ws.apply();
            std::fs::read_to_string(ws.dir.path().join("terraform.tfstate")).unwrap()
        })
        .await
        .unwrap();
        assert!(applied.contains("applied") && !applied.contains("deputy_aws_credentials"), "{applied}");
        let opened = admin.audit(&AuditFilter { action: Some("credentials.issue".into()), limit: Some(1), ..Default::default() }).await.unwrap();
        assert_eq!(opened[0].session_name.as_deref(), Some("tf-apply-1"));
        assert_eq!(opened[0].outcome, "ok");

        // issue ×2, exec, exec --refresh (first fetch and three renewals),
        // credential-process, and the refused read and wrong-stack requests.
        assert!(events.len() >= 9, "{}", events.len());
        let events: Vec<_> = events.into_iter().rev().take(2).rev().collect();
        assert_eq!(events[0].outcome, "forbidden");
        assert_eq!(events[1].session_name.as_deref(), Some("run-42-apply"));
        assert_eq!(events[1].outcome, "ok");

        // No secret in the audit trail or the database file.
        let audit = serde_json::to_string(&admin.audit(&AuditFilter::default()).await.unwrap()).unwrap();
        let secret = issued.secret_access_key;
        assert!(!audit.contains(&secret));
        let mut db = Vec::new();
        // The database and its WAL; admin.key holds the bootstrap key by design.
        for entry in std::fs::read_dir(b.data_dir()).unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with("deputy.db") {
                db.extend(std::fs::read(entry.path()).unwrap_or_default());
            }
        }
        assert!(db.len() > 10_000, "read the database files");
        let db = String::from_utf8_lossy(&db);
        assert!(!db.contains(&secret) && !db.contains(&runner.token[21..]) && !db.contains(&b.admin_token[21..]));
    });
}

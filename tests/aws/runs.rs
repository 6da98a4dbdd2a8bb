//! Credentials for runs, consumed by real AWS clients (boto3) against the
//! emulator: `deputy exec` (plain and refreshing), `deputy
//! credential-process`, worker mode, a broker on role credentials, the
//! ephemeral resource through Terraform; and no secret in the audit trail,
//! the database or a debug-level log.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use deputy::model::Phase;
use deputy::wire::{
    ApiKeyInput, AttachmentInput, AuditFilter, CredentialsRequest, IntegrationInput,
    IssuedCredentials, StackInput,
};

use crate::broker::Broker;
use crate::fakecloud::{Fakecloud, trust};

/// A Python with boto3, installed by `scripts/setup`.
fn python() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/bin/python-aws");
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup",
        path.display()
    );
    path
}

fn run(mut cmd: Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_get_working_credentials_and_no_secret_is_kept() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let b = Broker::start(&fc, &user, &["--verify-retry-seconds", "5"]).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    admin
        .create_stack(&StackInput::with_id("app"))
        .await
        .unwrap();
    b.attached_integration(
        &fc,
        &user.arn,
        IntegrationInput {
            name: "safe".into(),
            role_arn: "arn:aws:iam::123456789012:role/safe".into(),
            ..Default::default()
        },
        "net",
    )
    .await;
    let runner = admin
        .create_key(&ApiKeyInput::runner("net", &[Phase::Write]))
        .await
        .unwrap();
    let as_runner = b.client(&runner.token, Duration::from_secs(30));
    let IssuedCredentials::Broker(issued) = as_runner
        .credentials(&CredentialsRequest {
            stack_id: None,
            phase: Phase::Write,
            run_id: "run 42/apply".into(),
        })
        .await
        .unwrap()
    else {
        panic!("broker mode")
    };
    assert_eq!(issued.session.session_name, "run-42-apply");
    let refused = as_runner
        .credentials(&CredentialsRequest {
            stack_id: None,
            phase: Phase::Read,
            run_id: "r1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        refused.status(),
        Some(403),
        "the runner key is scoped to write"
    );

    let deputy = |args: &[&str], token: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_deputy"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", b.data_dir())
            .env("DEPUTY_ENDPOINT", &b.base)
            .env("DEPUTY_TOKEN", token)
            .env("AWS_ENDPOINT_URL", &fc.endpoint)
            .env("DEPUTY_AWS_ENDPOINT_URL", &fc.endpoint);
        cmd
    };
    let py = python();
    let py = py.to_str().unwrap();

    // `deputy exec`: boto3 in the command works with the credentials, the
    // secret is masked in its output, and the runner key is not passed on.
    let script = "import boto3,os;print(boto3.client('sts').get_caller_identity()['Arn']);print('leak', os.environ['AWS_SECRET_ACCESS_KEY']);print('token', os.environ.get('DEPUTY_TOKEN'))";
    let (ok, out, err) = run(deputy(
        &[
            "exec", "--stack", "net", "--phase", "write", "--run-id", "ci-7", "--", py, "-c",
            script,
        ],
        &runner.token,
    ));
    assert!(ok, "{out}{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "arn:aws:sts::123456789012:assumed-role/safe/ci-7",
            "leak ***",
            "token None"
        ]
    );

    // The runner key is in neither deputy's command line nor its
    // environment, where other processes could read it: with --token-file
    // it never was (and the file's path is overwritten at start); from
    // DEPUTY_TOKEN, deputy scrubs it at start.
    let key_file = b.data_dir().join("runner.key");
    std::fs::write(&key_file, format!("{}\n", runner.token)).unwrap();
    for via_file in [true, false] {
        let mut args = vec!["exec"];
        if via_file {
            args.extend(["--token-file", key_file.to_str().unwrap()]);
        }
        args.extend([
            "--stack", "net", "--phase", "write", "--run-id", "ci-10", "--", "sleep", "2",
        ]);
        let mut cmd = deputy(&args, if via_file { "" } else { &runner.token });
        if via_file {
            cmd.env_remove("DEPUTY_TOKEN");
        }
        let running = cmd.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(800));
        let secret = &runner.token.as_bytes()[21..];
        // Nor is the path to the key file: a command that reads
        // /proc/<exec>/cmdline would find the key through it.
        let path = key_file.to_str().unwrap().as_bytes();
        for what in ["cmdline", "environ"] {
            let seen = std::fs::read(format!("/proc/{}/{what}", running.id())).unwrap();
            assert!(
                !seen.windows(secret.len()).any(|w| w == secret),
                "the runner key is in deputy exec's {what} (via_file: {via_file})"
            );
            assert!(
                !seen.windows(path.len()).any(|w| w == path),
                "the key file's path is in deputy exec's {what} (via_file: {via_file})"
            );
        }
        assert!(running.wait_with_output().unwrap().status.success());
    }
    // Nor does the command learn where the key is: DEPUTY_TOKEN_FILE (the
    // recommended way to give deputy the key) is not passed on.
    let mut cmd = deputy(
        &[
            "exec",
            "--stack",
            "net",
            "--phase",
            "write",
            "--run-id",
            "ci-11",
            "--",
            py,
            "-c",
            "import os;print('file', os.environ.get('DEPUTY_TOKEN_FILE'), os.environ.get('DEPUTY_TOKEN'))",
        ],
        "",
    );
    cmd.env_remove("DEPUTY_TOKEN")
        .env("DEPUTY_TOKEN_FILE", &key_file);
    let (ok, out, err) = run(cmd);
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "file None None");

    // The command's output passes byte for byte but for the secrets: a
    // secret written in two halves, and its URL-encoded form, are masked;
    // 64 KiB of binary is unchanged; a prompt without a newline arrives.
    let script = "import os,sys,time,urllib.parse\ns=os.environ['AWS_SECRET_ACCESS_KEY'].encode()\no=sys.stdout.buffer\no.write(bytes((i*7919)%251 for i in range(65536)))\no.write(b'['+s[:9]);o.flush();time.sleep(0.2)\no.write(s[9:]+b']('+urllib.parse.quote(s,safe='').encode()+b')Enter a value: ');o.flush()";
    let exec = |command: &[&str]| {
        let mut args = vec![
            "exec", "--stack", "net", "--phase", "write", "--run-id", "ci-9", "--",
        ];
        args.extend_from_slice(command);
        deputy(&args, &runner.token).output().unwrap()
    };
    let out = exec(&[py, "-c", script]);
    assert!(out.status.success(), "{out:?}");
    let mut want: Vec<u8> = (0..65536u32).map(|i| ((i * 7919) % 251) as u8).collect();
    want.extend_from_slice(b"[***](***)Enter a value: ");
    assert!(
        out.stdout == want,
        "output differs: {} bytes, ends {:?}",
        out.stdout.len(),
        String::from_utf8_lossy(&out.stdout[out.stdout.len().saturating_sub(80)..])
    );
    // A command killed by signal n makes `exec` exit 128 + n, as a shell does.
    assert_eq!(
        exec(&["sh", "-c", "kill -TERM $$"]).status.code(),
        Some(143)
    );

    // `deputy exec --refresh`: the SDK reads credentials from the loopback
    // endpoint, which renews them in the background (here, with
    // --refresh-before beyond the session's lifetime, every few seconds)
    // and refuses callers without its token; renewed secrets are masked
    // too.
    let script = "import boto3,os,json,time,urllib.request,urllib.error\nuri=os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI']\ndef get(tok):\n  r=urllib.request.Request(uri,headers={'Authorization':tok})\n  return json.load(urllib.request.urlopen(r))['AccessKeyId']\ntok=os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN']\nfirst=get(tok)\nt=time.time()\nwhile get(tok)==first and time.time()-t<30: time.sleep(0.2)\nprint(get(tok)!=first)\ntry:\n  get('wrong')\nexcept urllib.error.HTTPError as e:\n  print(e.code)\nprint(boto3.client('sts').get_caller_identity()['Arn'])\nprint('AWS_ACCESS_KEY_ID' in os.environ)\nr=urllib.request.Request(uri,headers={'Authorization':tok})\nprint('renewed', json.load(urllib.request.urlopen(r))['SecretAccessKey'])";
    // Under --refresh the command's SDKs find deputy's endpoint and nothing
    // else: a `[default]` profile in ~/.aws and an ECS/EKS runner's
    // variables are out of their way.
    let home = b.data_dir().join(".aws");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("credentials"),
        "[default]\naws_access_key_id = AKIAPOISONEDPROFILE1\naws_secret_access_key = poisoned\n",
    )
    .unwrap();
    std::fs::write(home.join("token"), "not-a-token").unwrap();
    let poisoned = |mut cmd: Command| {
        cmd.env("AWS_PROFILE", "default")
            .env("AWS_ACCESS_KEY_ID", "AKIAPOISONEDENVIRON1")
            .env("AWS_SECRET_ACCESS_KEY", "poisoned")
            .env(
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/poisoned",
            )
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", home.join("token"))
            .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/poisoned");
        cmd
    };
    let aws_cli = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/bin/aws");
    let (ok, out, err) = run(poisoned(deputy(
        &[
            "exec",
            "--refresh",
            "--stack",
            "net",
            "--phase",
            "write",
            "--run-id",
            "cli-run",
            "--",
            aws_cli.to_str().unwrap(),
            "sts",
            "get-caller-identity",
            "--query",
            "Arn",
            "--output",
            "text",
        ],
        &runner.token,
    )));
    assert!(ok, "{out}{err}");
    assert_eq!(
        out.trim(),
        "arn:aws:sts::123456789012:assumed-role/safe/cli-run"
    );
    let (ok, out, err) = run(poisoned(deputy(
        &[
            "exec",
            "--refresh",
            "--refresh-before",
            "4000",
            "--stack",
            "net",
            "--phase",
            "write",
            "--run-id",
            "long-run",
            "--",
            py,
            "-c",
            script,
        ],
        &runner.token,
    )));
    assert!(ok, "{out}{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "True",
            "401",
            "arn:aws:sts::123456789012:assumed-role/safe/long-run",
            "False",
            "renewed ***"
        ]
    );

    // `deputy credential-process` prints the JSON the SDKs read.
    let (ok, out, err) = run(deputy(
        &[
            "credential-process",
            "--stack",
            "net",
            "--phase",
            "write",
            "--run-id",
            "ci-8",
        ],
        &runner.token,
    ));
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("credential_process JSON");
    assert_eq!(json["Version"], 1);
    assert!(
        json["Expiration"]
            .as_str()
            .is_some_and(|e| e.ends_with('Z'))
    );
    let (ok, _, err) = run(deputy(
        &[
            "credential-process",
            "--stack",
            "other",
            "--phase",
            "write",
            "--run-id",
            "x1",
        ],
        &runner.token,
    ));
    assert!(!ok && err.contains("is for stack net, not other"), "{err}");

    // Worker mode: the broker hands out the role, External ID and session
    // name; `deputy exec` assumes the role with the worker's own identity.
    let worker_user = fc.user("ci-worker").await;
    let worker = admin
        .create_integration(&IntegrationInput {
            name: "worker".into(),
            role_arn: "arn:aws:iam::123456789012:role/worker".into(),
            generate_credentials_in_worker: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let worker_id = format!("acme@{}@app@write", worker.id);
    fc.role(
        "worker",
        &trust(
            &worker_user.arn,
            json!({"Condition": {"StringEquals": {"sts:ExternalId": [worker_id]}}}),
        ),
    )
    .await
    .unwrap();
    admin
        .attach(
            &worker.id,
            &AttachmentInput {
                stack_id: "app".into(),
                read: false,
                write: true,
            },
        )
        .await
        .unwrap();
    let app_runner = admin
        .create_key(&ApiKeyInput::runner("app", &[Phase::Write]))
        .await
        .unwrap();
    let as_worker = |cmd: &mut Command| {
        cmd.env("AWS_ACCESS_KEY_ID", &worker_user.id)
            .env("AWS_SECRET_ACCESS_KEY", &worker_user.secret)
            .env("AWS_REGION", "us-east-1");
    };
    // Until a worker has verified the role, the broker hands out nothing.
    let mut cmd = deputy(
        &[
            "credential-process",
            "--stack",
            "app",
            "--phase",
            "write",
            "--run-id",
            "w0",
        ],
        &app_runner.token,
    );
    as_worker(&mut cmd);
    let (ok, _, err) = run(cmd);
    assert!(!ok && err.contains("--as-worker"), "{err}");
    let mut cmd = deputy(
        &["verify", "--integration", worker.id.as_str(), "--as-worker"],
        &b.admin_token,
    );
    as_worker(&mut cmd);
    let (ok, out, err) = run(cmd);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("deny:write:no-external-id:vend") && out.contains("recorded"),
        "{out}"
    );
    let mut cmd = deputy(
        &[
            "exec",
            "--stack",
            "app",
            "--phase",
            "write",
            "--run-id",
            "ci-w1",
            "--",
            py,
            "-c",
            "import boto3;print(boto3.client('sts').get_caller_identity()['Arn'])",
        ],
        &app_runner.token,
    );
    cmd.env("AWS_ACCESS_KEY_ID", &worker_user.id)
        .env("AWS_SECRET_ACCESS_KEY", &worker_user.secret)
        .env("AWS_REGION", "us-east-1");
    let (ok, out, err) = run(cmd);
    assert!(ok, "{out}{err}");
    assert_eq!(
        out.trim(),
        "arn:aws:sts::123456789012:assumed-role/worker/ci-w1"
    );

    // A broker running on role credentials discovers its principal as the
    // role (not the session), and its debug-level log holds no secret.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut chained = tokio::process::Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args([
            "serve",
            "--account",
            "acme",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--store")
        .arg(dir.path().join("d.db"))
        .env_clear()
        .env("HOME", dir.path())
        .env("DEPUTY_AWS_ENDPOINT_URL", &fc.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", &issued.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &issued.secret_access_key)
        .env("AWS_SESSION_TOKEN", &issued.session_token)
        .env("DEPUTY_LOG", "debug")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let token_file = dir.path().join("admin.key");
    let mut account = None;
    for _ in 0..200 {
        if let Ok(token) = std::fs::read_to_string(&token_file) {
            let c = deputy::client::Client::new(
                format!("http://127.0.0.1:{port}/").parse().unwrap(),
                token.trim().into(),
                Duration::from_secs(5),
                &Default::default(),
            )
            .unwrap();
            if let Ok(a) = c.account().await {
                account = Some(a);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = chained.start_kill();
    assert_eq!(
        account
            .expect("the broker on role credentials started")
            .aws_principal_arn
            .as_str(),
        "arn:aws:iam::123456789012:role/safe"
    );
    let log =
        String::from_utf8_lossy(&chained.wait_with_output().await.unwrap().stderr).into_owned();
    assert!(
        log.contains("DEBUG"),
        "the broker logged at debug level:\n{log}"
    );
    let chained_token = std::fs::read_to_string(&token_file).unwrap();
    for secret in [
        issued.secret_access_key.as_str(),
        issued.session_token.as_str(),
        &chained_token.trim()[21..],
    ] {
        assert!(
            !log.contains(secret),
            "a secret reached the broker log:\n{log}"
        );
    }

    // `ephemeral "deputy_aws_credentials"` through Terraform in a workload
    // stack: the runner key given as to `deputy exec` (a key file), no
    // admin key anywhere, nothing of it in the state.
    let runner_key_file = b.data_dir().join("runner-key");
    std::fs::write(&runner_key_file, format!("{}\n", runner.token)).unwrap();
    let env = [
        ("DEPUTY_ENDPOINT", b.base.clone()),
        ("DEPUTY_TOKEN_FILE", runner_key_file.display().to_string()),
    ];
    let applied = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let ws = crate::tf::Workspace::with_env(
            "ephemeral \"deputy_aws_credentials\" \"c\" {\n  stack_id = \"net\"\n  phase = \"write\"\n  run_id = \"tf-apply-1\"\n}\nresource \"terraform_data\" \"marker\" {\n  input = \"applied\"\n}\n",
            &env,
        );
        ws.apply();
        std::fs::read_to_string(ws.dir.path().join("terraform.tfstate")).unwrap()
    })
    .await
    .unwrap();
    assert!(
        applied.contains("applied") && !applied.contains("deputy_aws_credentials"),
        "{applied}"
    );
    let opened = admin
        .audit(&AuditFilter {
            action: Some("credentials.issue".into()),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (
            opened[0].session_name.as_deref(),
            opened[0].outcome.as_str()
        ),
        (Some("tf-apply-1"), "ok")
    );

    // No secret in the audit trail or the database files.
    let audit =
        serde_json::to_string(&admin.audit(&AuditFilter::default()).await.unwrap()).unwrap();
    assert!(!audit.contains(&issued.secret_access_key));
    let mut db = Vec::new();
    for entry in std::fs::read_dir(b.data_dir()).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with("deputy.db") {
            db.extend(std::fs::read(entry.path()).unwrap_or_default());
        }
    }
    assert!(db.len() > 10_000, "read the database files");
    let db = String::from_utf8_lossy(&db);
    for secret in [
        issued.secret_access_key.as_str(),
        &runner.token[21..],
        &b.admin_token[21..],
    ] {
        assert!(!db.contains(secret), "a secret reached the database");
    }
    let broker_log = b.log();
    assert!(
        !broker_log.contains(&issued.secret_access_key),
        "a secret reached the broker log"
    );
}

/// Session policies per phase: the integration's role may write, but its
/// `read` sessions carry a read-only session policy, so a plan cannot
/// write. The emulator evaluates identity and session policies (`--iam
/// strict`) on every S3 call made with the vended credentials.
#[tokio::test(flavor = "multi_thread")]
async fn plan_sessions_cannot_write_with_a_read_only_session_policy() {
    let fc = Fakecloud::start_with(&["--iam", "strict"]);
    let user = fc.user("deputy-broker").await;
    let allow = |actions: &[&str]| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
            .to_string()
    };
    fc.iam(
        "PutUserPolicy",
        &[
            ("UserName", "deputy-broker"),
            ("PolicyName", "assume"),
            // AWS needs no permission for GetCallerIdentity; the
            // emulator's strict mode does.
            (
                "PolicyDocument",
                &allow(&["sts:AssumeRole", "sts:TagSession", "sts:GetCallerIdentity"]),
            ),
        ],
    )
    .await
    .unwrap();
    // AWS's ReadOnlyAccess is the documented choice; the emulator does not
    // resolve AWS managed policies as session policies, so the test uses a
    // read-only policy of the account's own. (The emulator's strict mode
    // also wants GetCallerIdentity granted, which AWS always allows;
    // verification checks each session with it.)
    let read_only = fc
        .iam(
            "CreatePolicy",
            &[
                ("PolicyName", "read-only"),
                (
                    "PolicyDocument",
                    &allow(&["s3:Get*", "s3:List*", "sts:GetCallerIdentity"]),
                ),
            ],
        )
        .await
        .unwrap();
    let read_only = crate::fakecloud::xml_field(&read_only, "Arn").unwrap();
    let b = Broker::start(&fc, &user, &["--verify-retry-seconds", "5"]).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let integration = admin
        .create_integration(&IntegrationInput {
            name: "deploy".into(),
            role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
            read_session_policy_arns: vec![read_only.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<String> = ["read", "write"]
        .iter()
        .map(|p| format!("acme@{}@net@{p}", integration.id))
        .collect();
    fc.role(
        "deploy",
        &trust(
            &user.arn,
            json!({"Condition": {"StringEquals": {"sts:ExternalId": ids}}}),
        ),
    )
    .await
    .unwrap();
    fc.iam(
        "PutRolePolicy",
        &[
            ("RoleName", "deploy"),
            ("PolicyName", "everything-in-s3"),
            ("PolicyDocument", &allow(&["s3:*", "sts:GetCallerIdentity"])),
        ],
    )
    .await
    .unwrap();
    admin
        .attach(
            &integration.id,
            &AttachmentInput {
                stack_id: "net".into(),
                read: true,
                write: true,
            },
        )
        .await
        .unwrap();

    let aws_cli = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/bin/aws");
    let aws = |creds: Option<(&str, &str, &str)>, args: &[&str]| {
        let mut cmd = Command::new(&aws_cli);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", b.data_dir())
            .env("AWS_ENDPOINT_URL", &fc.endpoint)
            .env("AWS_REGION", "us-east-1");
        let (id, secret, token) = creds.unwrap_or(("test", "test", ""));
        cmd.env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret);
        if !token.is_empty() {
            cmd.env("AWS_SESSION_TOKEN", token);
        }
        run(cmd)
    };
    let (ok, _, err) = aws(None, &["s3api", "create-bucket", "--bucket", "plans"]);
    assert!(ok, "{err}");
    let body = b.data_dir().join("body");
    std::fs::write(&body, "x").unwrap();
    let runner = admin
        .create_key(&ApiKeyInput::runner("net", &[Phase::Read, Phase::Write]))
        .await
        .unwrap();
    let as_runner = b.client(&runner.token, Duration::from_secs(30));
    for phase in [Phase::Read, Phase::Write] {
        let IssuedCredentials::Broker(c) = as_runner
            .credentials(&CredentialsRequest {
                stack_id: None,
                phase,
                run_id: format!("{phase}-run"),
            })
            .await
            .unwrap()
        else {
            panic!("broker mode")
        };
        let creds = Some((
            c.access_key_id.as_str(),
            c.secret_access_key.as_str(),
            c.session_token.as_str(),
        ));
        let (ok, _, err) = aws(creds, &["s3api", "list-objects-v2", "--bucket", "plans"]);
        assert!(ok, "{phase} can read: {err}");
        let (ok, _, err) = aws(
            creds,
            &[
                "s3api",
                "put-object",
                "--bucket",
                "plans",
                "--key",
                phase.as_str(),
                "--body",
                body.to_str().unwrap(),
            ],
        );
        match phase {
            Phase::Read => {
                assert!(!ok, "a read session wrote to S3");
                assert!(err.contains("AccessDenied"), "{err}");
            }
            Phase::Write => assert!(ok, "write can write: {err}"),
        }
    }

    // The documented workload stack: the runner key as `deputy exec` takes
    // it, read credentials while planning and write credentials only while
    // applying.
    let key_file = b.data_dir().join("runner-key");
    std::fs::write(&key_file, format!("{}\n", runner.token)).unwrap();
    let env = [
        ("DEPUTY_ENDPOINT", b.base.clone()),
        ("DEPUTY_TOKEN_FILE", key_file.display().to_string()),
    ];
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let ws = crate::tf::Workspace::with_env(
            "ephemeral \"deputy_aws_credentials\" \"run\" {\n  stack_id = \"net\"\n  phase = terraform.applying ? \"write\" : \"read\"\n  run_id = \"run-7\"\n}\nresource \"terraform_data\" \"marker\" {\n  input = \"applied\"\n}\n",
            &env,
        );
        ws.apply();
    })
    .await
    .unwrap();
    let issued = admin
        .audit(&AuditFilter {
            action: Some("credentials.issue".into()),
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    let phases: Vec<_> = issued
        .iter()
        .map(|e| (e.phase, e.session_name.as_deref(), e.outcome.as_str()))
        .collect();
    // Newest first: the apply's write, then the plan's read.
    assert_eq!(
        phases,
        [
            (Some(Phase::Write), Some("run-7"), "ok"),
            (Some(Phase::Read), Some("run-7"), "ok")
        ],
        "{issued:#?}"
    );
}

/// A stack moved between integrations by Terraform in one apply (the
/// natural configuration: one attachment resource per integration, each a
/// `for_each` over its stacks), from a stack-scoped role to an
/// integration-scoped one and back, while its runs keep vending: no vend
/// fails, and the plan afterwards is empty.
#[tokio::test(flavor = "multi_thread")]
async fn a_stack_moves_between_integrations_in_one_apply_while_it_runs() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    // Runs vend back to back here, far above a runner's usual rate.
    let b = Broker::start(
        &fc,
        &user,
        &[
            "--verify-retry-seconds",
            "10",
            "--credentials-rate-limit",
            "100000",
        ],
    )
    .await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let from = admin
        .create_integration(&IntegrationInput {
            name: "from".into(),
            role_arn: "arn:aws:iam::123456789012:role/from".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let to = admin
        .create_integration(&IntegrationInput {
            name: "to".into(),
            role_arn: "arn:aws:iam::123456789012:role/to".into(),
            trust_scope: Some("integration".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let exact: Vec<String> = ["read", "write"]
        .iter()
        .map(|p| format!("acme@{}@net@{p}", from.id))
        .collect();
    fc.role(
        "from",
        &trust(
            &user.arn,
            json!({"Condition": {"StringEquals": {"sts:ExternalId": exact}}}),
        ),
    )
    .await
    .unwrap();
    let patterns: Vec<String> = ["read", "write"]
        .iter()
        .map(|p| format!("acme@{}@*@{p}", to.id))
        .collect();
    fc.role(
        "to",
        &trust(
            &user.arn,
            json!({"Condition": {"StringLike": {"sts:ExternalId": patterns}}}),
        ),
    )
    .await
    .unwrap();
    let config = |on_from: &str, on_to: &str| {
        format!(
            "resource \"deputy_aws_integration_attachment\" \"from\" {{\n  for_each = toset({on_from})\n  integration_id = \"{}\"\n  stack_id = each.value\n}}\nresource \"deputy_aws_integration_attachment\" \"to\" {{\n  for_each = toset({on_to})\n  integration_id = \"{}\"\n  stack_id = each.value\n}}\n",
            from.id, to.id
        )
    };
    let env = [
        ("DEPUTY_ENDPOINT", b.base.clone()),
        ("DEPUTY_TOKEN", b.admin_token.clone()),
    ];
    let first = config(r#"["net"]"#, "[]");
    let ws = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let ws = crate::tf::Workspace::with_env(&first, &env);
        ws.apply();
        ws
    })
    .await
    .unwrap();

    // The stack's runs: a loop of vends of both phases for the whole move.
    let runner = admin
        .create_key(&ApiKeyInput::runner("net", &[Phase::Read, Phase::Write]))
        .await
        .unwrap();
    let as_runner = b.client(&runner.token, Duration::from_secs(30));
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let runs = {
        let running = running.clone();
        tokio::spawn(async move {
            let (mut served, mut failed) = (Vec::new(), Vec::new());
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                for phase in [Phase::Read, Phase::Write] {
                    match as_runner
                        .credentials(&CredentialsRequest {
                            stack_id: None,
                            phase,
                            run_id: "moving".into(),
                        })
                        .await
                    {
                        Ok(IssuedCredentials::Broker(c)) => {
                            served.push(c.session.role_arn.to_string())
                        }
                        Ok(_) => failed.push("worker mode".to_string()),
                        Err(e) => failed.push(e.to_string()),
                    }
                }
            }
            (served, failed)
        })
    };
    let moves = [config("[]", r#"["net"]"#), config(r#"["net"]"#, "[]")];
    let ws = tokio::task::spawn_blocking(move || {
        for config in moves {
            ws.write(&config);
            ws.apply();
            assert_eq!(ws.plan_exit().0, 0, "the plan after the move is empty");
        }
        ws
    });
    let ws = ws.await.unwrap();
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    let (served, failed) = runs.await.unwrap();
    assert!(
        failed.is_empty(),
        "vends failed during the move: {failed:?}"
    );
    for role in ["role/from", "role/to"] {
        assert!(
            served.iter().any(|r| r.ends_with(role)),
            "no vend through {role}: {} vends",
            served.len()
        );
    }
    assert!(served.last().unwrap().ends_with("role/from"));
    drop(ws);
}

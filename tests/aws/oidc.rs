//! No stored secret: CI jobs' OIDC ID tokens as runner identities, end to
//! end. A local issuer mints tokens shaped exactly like GitHub Actions'
//! (`crates/testkit/src/oidc_issuer.rs`) and plays GitHub's token service; a real
//! `deputy serve` validates them over HTTPS and vends from the emulator;
//! the `deputy exec` steps of `docs/examples/github-actions.yml` run with
//! that workflow's environment, with the AWS CLI standing in for
//! `terraform` (the AWS provider cannot be downloaded here).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use deputy::model::Phase;
use deputy::wire::{AuditFilter, RunnerTrustInput};

use crate::broker::Broker;
use crate::fakecloud::Fakecloud;
use crate::oidc_issuer::OidcIssuer;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workflow file as data (PyYAML from the tools `scripts/setup`
/// installs).
fn workflow() -> Value {
    let out = Command::new(root().join("target/tools/bin/python-aws"))
        .args([
            "-c",
            "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1])), default=str))",
        ])
        .arg(root().join("docs/examples/github-actions.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// GitHub's expressions this workflow uses, evaluated for run 9467104523.
fn expand(text: &str) -> String {
    let text = text
        .replace("${{ github.run_id }}", "9467104523")
        .replace("${{ github.run_attempt }}", "1");
    assert!(
        !text.contains("${{"),
        "an expression the test does not evaluate: {text}"
    );
    text
}

/// Runs the `deputy exec` steps of `job` as GitHub would for `event`;
/// returns whether they all passed, and their output.
fn run_job(flow: &Value, job: &str, event: &str, ctx: &Context<'_>) -> (bool, String) {
    let job = &flow["jobs"][job];
    let condition = job["if"].as_str().unwrap();
    let wanted = condition
        .strip_prefix("github.event_name == '")
        .and_then(|c| c.strip_suffix('\''))
        .unwrap_or_else(|| panic!("a condition the test does not evaluate: {condition}"));
    assert_eq!(wanted, event, "this job does not run on {event}");
    let mut output = String::new();
    let steps = job["steps"].as_array().unwrap();
    let runs: Vec<&str> = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .filter(|r| r.starts_with("deputy exec"))
        .collect();
    assert!(!runs.is_empty());
    for run in runs {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", run]).env_clear();
        for scope in [&flow["env"], &job["env"]] {
            for (k, v) in scope.as_object().unwrap() {
                cmd.env(k, expand(v.as_str().unwrap()));
            }
        }
        // What GitHub sets for a job with `id-token: write`, and where this
        // test's broker and emulator are.
        cmd.env("PATH", ctx.path)
            .env("HOME", ctx.home)
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                &ctx.issuer.token_service_url,
            )
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                &ctx.issuer.token_service_secret,
            )
            .env("DEPUTY_ENDPOINT", ctx.broker)
            .env("AWS_ENDPOINT_URL", ctx.aws);
        let out = cmd.output().unwrap();
        // Shown with --nocapture: the run as a CI log would show it.
        println!(
            "$ {run}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        output.push_str(&String::from_utf8_lossy(&out.stdout));
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            return (false, output);
        }
    }
    (true, output)
}

struct Context<'a> {
    issuer: &'a OidcIssuer,
    path: &'a str,
    home: &'a Path,
    broker: &'a str,
    aws: &'a str,
}

#[tokio::test(flavor = "multi_thread")]
async fn github_actions_workflow_plans_pull_requests_read_only_and_applies_main() {
    let issuer = OidcIssuer::start().await;
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let ca = issuer.ca_file.to_str().unwrap().to_string();
    let b = Broker::start(
        &fc,
        &user,
        &["--verify-retry-seconds", "5", "--oidc-ca-file", &ca],
    )
    .await;
    let admin = b.admin();
    b.stack_with_integration(&fc, &user.arn, "prod-network", "network")
        .await;
    // The runner trusts of examples/resources/deputy_runner_trust.
    let rule = |subject: &str, claims: &[(&str, &str)], phase: Phase| RunnerTrustInput {
        stack_id: "prod-network".into(),
        issuer: issuer.url.clone(),
        audience: "deputy".into(),
        subject: subject.into(),
        claims: claims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        phases: vec![phase],
        description: String::new(),
        // As in the example: apply jobs' tokens are accepted once (deputy
        // exec mints a fresh one from GitHub's token service per request).
        single_use_tokens: phase == Phase::Write,
    };
    admin
        .create_runner_trust(&rule(
            "repo:acme/network:*",
            &[("repository", "acme/network")],
            Phase::Read,
        ))
        .await
        .unwrap();
    admin
        .create_runner_trust(&rule(
            "repo:acme/network:ref:refs/heads/main",
            &[("event_name", "push"), ("ref_protected", "true")],
            Phase::Write,
        ))
        .await
        .unwrap();

    // `terraform` here reports who it runs as and whether it could mint
    // ID tokens itself.
    let bin = b.data_dir().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("terraform");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho \"terraform $1 as $(aws sts get-caller-identity --query Arn --output text)\"\n\
         if env | grep -q '^ACTIONS_ID_TOKEN_REQUEST'; then echo 'token service visible'; fi\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let deputy_dir = Path::new(env!("CARGO_BIN_EXE_deputy")).parent().unwrap();
    let path = format!(
        "{}:{}:{}:{}",
        bin.display(),
        deputy_dir.display(),
        root().join("target/tools/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let ctx = Context {
        issuer: &issuer,
        path: &path,
        home: b.data_dir(),
        broker: &b.base,
        aws: &fc.endpoint,
    };
    let flow = workflow();

    // A pull request: the plan job gets read credentials.
    issuer.set_job("acme/network", "pull_request", "refs/pull/7/merge");
    let (ok, out) = run_job(&flow, "plan", "pull_request", &ctx);
    assert!(ok, "{out}\n{}", b.log());
    assert!(
        out.contains(
            "terraform plan as arn:aws:sts::123456789012:assumed-role/network/github-9467104523-1"
        ),
        "{out}"
    );
    assert!(
        !out.contains("token service visible"),
        "the command could mint ID tokens: {out}"
    );

    // The same pull request running the apply job (a workflow edited in the
    // pull request) is refused write credentials.
    let (ok, out) = run_job(&flow, "apply", "push", &ctx);
    assert!(!ok, "a pull request's token got write credentials: {out}");
    assert!(out.contains("may not get write credentials"), "{out}");

    // A push to main: the apply job gets write credentials.
    issuer.set_job("acme/network", "push", "refs/heads/main");
    let (ok, out) = run_job(&flow, "apply", "push", &ctx);
    assert!(ok, "{out}\n{}", b.log());
    assert!(
        out.contains(
            "terraform apply as arn:aws:sts::123456789012:assumed-role/network/github-9467104523-1"
        ),
        "{out}"
    );

    // The audit trail names each job's token, never the token itself.
    let events = admin
        .audit(&AuditFilter {
            action: Some("credentials.issue".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let phases: Vec<(String, Option<Phase>, Option<String>)> = events
        .iter()
        .rev()
        .map(|e| (e.outcome.clone(), e.phase, e.token_subject.clone()))
        .collect();
    assert_eq!(
        phases,
        [
            (
                "ok".to_string(),
                Some(Phase::Read),
                Some("repo:acme/network:pull_request".to_string())
            ),
            (
                "forbidden".to_string(),
                Some(Phase::Write),
                Some("repo:acme/network:pull_request".to_string())
            ),
            (
                "ok".to_string(),
                Some(Phase::Write),
                Some("repo:acme/network:ref:refs/heads/main".to_string())
            ),
        ]
    );
    assert!(events.iter().all(|e| e.token_issuer.as_deref() == Some(issuer.url.as_str()) && e.token_id.is_some()));

    // The same pull request's plan in Terraform: the provider presents the
    // job's ID token (an ephemeral variable), no key is stored anywhere,
    // and the plan gets read credentials.
    let pr = issuer.github_claims(
        "acme/network",
        "pull_request",
        "refs/pull/7/merge",
        "deputy",
    );
    let token = issuer.sign("rsa-1", &pr);
    let env = [
        ("DEPUTY_ENDPOINT", b.base.clone()),
        ("TF_VAR_id_token", token),
    ];
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let ws = crate::tf::Workspace::with_env(
            "variable \"id_token\" {\n  type = string\n  ephemeral = true\n  sensitive = true\n}\nprovider \"deputy\" {\n  id_token = var.id_token\n}\nephemeral \"deputy_aws_credentials\" \"run\" {\n  stack_id = \"prod-network\"\n  phase = terraform.applying ? \"write\" : \"read\"\n  run_id = \"tf-pr-7\"\n}\n",
            &env,
        );
        ws.ok(&["plan", "-input=false", "-no-color"]);
    })
    .await
    .unwrap();
    let planned = admin
        .audit(&AuditFilter {
            action: Some("credentials.issue".into()),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (
            planned[0].outcome.as_str(),
            planned[0].phase,
            planned[0].session_name.as_deref(),
            planned[0].token_subject.as_deref()
        ),
        (
            "ok",
            Some(Phase::Read),
            Some("tf-pr-7"),
            Some("repo:acme/network:pull_request")
        )
    );
}

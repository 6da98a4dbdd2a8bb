//! `terraform plan` time for the trust policy of one role shared by N
//! stacks, along each path deputy offers, next to the floor (plain
//! `locals`) and a Go peer's per-instance data source (hashicorp/null's
//! `null_data_source`, when `scripts/setup --peers` fetched it). Runs a real
//! broker on loopback (SQLite) and a real Terraform.
//!
//!     cargo bench --bench trust_policy_plan [-- 100 1000]

#[path = "../tests/broker/support.rs"]
#[allow(dead_code, unused_macros)]
mod broker;
#[path = "../tests/terraform/support.rs"]
#[allow(dead_code)]
mod tf;

use std::time::{Duration, Instant};

use deputy::api::{IntegrationInput, StackInput};

const RUNS: usize = 3;

fn configs(n: usize, integration: &str, with_null: bool) -> Vec<(&'static str, String)> {
    let stacks =
        format!("locals {{\n  stacks = [for i in range({n}) : format(\"s%05d\", i)]\n}}\n");
    let mut all = vec![
        (
            "locals (floor)",
            format!(
                "{stacks}output \"ids\" {{\n  value = [for s in local.stacks : [for p in [\"read\", \"write\"] : \"acme@{integration}@${{s}}@${{p}}\"]]\n}}\n"
            ),
        ),
        (
            "provider function",
            format!(
                "{stacks}output \"policy\" {{\n  value = provider::deputy::trust_policy_document(\"arn:aws:iam::123456789012:role/deputy-broker\", \"acme\", \"{integration}\", local.stacks, [\"read\", \"write\"])\n}}\n"
            ),
        ),
        (
            "aggregate data source",
            format!(
                "{stacks}data \"deputy_aws_integration_trust_policy\" \"all\" {{\n  integration_id = \"{integration}\"\n  stack_ids = local.stacks\n}}\n"
            ),
        ),
        (
            "per-instance data source",
            format!(
                "{stacks}data \"deputy_aws_integration_attachment_external_id\" \"each\" {{\n  for_each = toset(local.stacks)\n  integration_id = \"{integration}\"\n  stack_id = each.key\n}}\n"
            ),
        ),
    ];
    if with_null {
        all.push((
            "hashicorp/null per-instance",
            format!(
                "{stacks}data \"null_data_source\" \"each\" {{\n  for_each = toset(local.stacks)\n  inputs = {{ id = \"acme@{integration}@${{each.key}}@read\" }}\n}}\n"
            ),
        ));
    }
    all
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![100, 1000]
    } else {
        counts
    };
    let with_null = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/tools/peers/terraform-provider-null_v2.1.2_x4")
        .exists();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let b = rt.block_on(broker::TestBroker::start(broker::Backend::Sqlite));
    let admin = b.admin();
    let integration = rt
        .block_on(admin.create_integration(&IntegrationInput {
            name: "shared".into(),
            role_arn: "arn:aws:iam::210987654321:role/shared".into(),
            ..Default::default()
        }))
        .unwrap()
        .id;
    let max = counts.iter().copied().max().unwrap();
    rt.block_on(async {
        for i in 0..max {
            admin
                .create_stack(&StackInput {
                    id: Some(format!("s{i:05}")),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
    });
    println!("terraform: {}", tf::terraform_binary().display());
    println!("median of {RUNS} `terraform plan` runs");
    println!(
        "{:>6}  {:<30} {:>9} {:>10}",
        "stacks", "path", "plan s", "x locals"
    );
    for n in counts {
        let mut floor = None;
        for (name, config) in configs(n, &integration, with_null) {
            let env = [
                ("DEPUTY_ENDPOINT", b.base.as_str()),
                ("DEPUTY_TOKEN", b.admin_token.as_str()),
            ];
            let ws = tf::Workspace::with_env(&config, &env);
            let mut times: Vec<Duration> = (0..RUNS)
                .map(|_| {
                    let start = Instant::now();
                    ws.ok(&["plan", "-input=false", "-no-color", "-refresh=false"]);
                    start.elapsed()
                })
                .collect();
            times.sort();
            let t = times[RUNS / 2].as_secs_f64();
            let floor = *floor.get_or_insert(t);
            println!("{n:>6}  {name:<30} {t:>9.2} {:>9.1}x", t / floor);
        }
    }
}

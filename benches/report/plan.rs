//! `terraform plan` time for the trust policy of one role shared by N
//! stacks, along each path deputy offers, next to the floor (plain
//! `locals`) and a Go peer's per-instance data source (hashicorp/null's
//! `null_data_source`). A real broker on loopback (SQLite) holds the
//! stacks; a real Terraform plans.

use std::time::{Duration, Instant};

use deputy::api::{IntegrationInput, StackInput};
use tokio::runtime::Runtime;

use crate::broker::{Backend, TestBroker};
use crate::report::{Section, Target};
use crate::tf;

const RUNS: usize = 3;
pub const COUNTS: [usize; 2] = [100, 1_000];

const LOCALS: &str = "locals (floor)";
const FUNCTION: &str = "provider function";
const AGGREGATE: &str = "aggregate data source";
const PER_INSTANCE: &str = "per-instance data source";
const NULL: &str = "hashicorp/null per-instance";

fn configs(n: usize, integration: &str) -> Vec<(&'static str, String)> {
    let stacks =
        format!("locals {{\n  stacks = [for i in range({n}) : format(\"s%05d\", i)]\n}}\n");
    vec![
        (
            LOCALS,
            format!(
                "{stacks}output \"ids\" {{\n  value = [for s in local.stacks : [for p in [\"read\", \"write\"] : \"acme@{integration}@${{s}}@${{p}}\"]]\n}}\n"
            ),
        ),
        (
            FUNCTION,
            format!(
                "{stacks}output \"policy\" {{\n  value = provider::deputy::trust_policy_document(\"arn:aws:iam::123456789012:role/deputy-broker\", \"acme\", \"{integration}\", local.stacks, [\"read\", \"write\"])\n}}\n"
            ),
        ),
        (
            AGGREGATE,
            format!(
                "{stacks}data \"deputy_aws_integration_trust_policy\" \"all\" {{\n  integration_id = \"{integration}\"\n  stack_ids = local.stacks\n}}\n"
            ),
        ),
        (
            PER_INSTANCE,
            format!(
                "{stacks}data \"deputy_aws_integration_attachment_external_id\" \"each\" {{\n  for_each = toset(local.stacks)\n  integration_id = \"{integration}\"\n  stack_id = each.key\n}}\n"
            ),
        ),
        (
            NULL,
            format!(
                "{stacks}data \"null_data_source\" \"each\" {{\n  for_each = toset(local.stacks)\n  inputs = {{ id = \"acme@{integration}@${{each.key}}@read\" }}\n}}\n"
            ),
        ),
    ]
}

/// Median wall time of `terraform plan` on an initialised workspace.
fn plan_time(ws: &tf::Workspace) -> f64 {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            ws.ok(&["plan", "-input=false", "-no-color", "-refresh=false"]);
            start.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2].as_secs_f64()
}

pub fn run(rt: &Runtime) -> Section {
    let b = rt.block_on(TestBroker::start(Backend::Sqlite));
    let admin = b.admin();
    let integration = rt
        .block_on(admin.create_integration(&IntegrationInput {
            name: "shared".into(),
            role_arn: "arn:aws:iam::210987654321:role/shared".into(),
            ..Default::default()
        }))
        .unwrap()
        .id;
    rt.block_on(async {
        for i in 0..COUNTS[COUNTS.len() - 1] {
            let input = StackInput {
                id: Some(format!("s{i:05}")),
                ..Default::default()
            };
            admin.create_stack(&input).await.unwrap();
        }
    });
    let mut section = Section::new(
        "Trust policy plan time",
        format!(
            "Wall time of `terraform plan -refresh=false` for the trust policy of one role \
             shared by N stacks (read and write External IDs each), median of {RUNS} plans per \
             cell, every path in the same run against the same broker (SQLite, loopback) and the \
             shipped provider build. \
             \"× floor\" divides by the `locals` row, which computes the same strings in \
             Terraform's language with no provider at all."
        ),
        vec!["stacks", "path", "plan s", "× floor", "× null"],
    );
    let env = [
        ("DEPUTY_ENDPOINT", b.base.as_str()),
        ("DEPUTY_TOKEN", b.admin_token.as_str()),
    ];
    for n in COUNTS {
        let times: Vec<(&str, f64)> = configs(n, &integration)
            .into_iter()
            .map(|(name, config)| (name, plan_time(&tf::Workspace::with_env(&config, &env))))
            .collect();
        let of = |path: &str| times.iter().find(|(p, _)| *p == path).unwrap().1;
        let (floor, null) = (of(LOCALS), of(NULL));
        for (path, t) in &times {
            section.row(vec![
                n.to_string(),
                (*path).into(),
                format!("{t:.2}"),
                format!("{:.2}×", t / floor),
                format!("{:.2}×", t / null),
            ]);
        }
        if n == 1_000 {
            section.targets.push(Target::ratio_at_most(
                "aggregate data source vs `locals` floor, 1,000 stacks",
                of(AGGREGATE) / floor,
                1.5,
            ));
            section.targets.push(Target::ratio_at_most(
                "per-instance data source vs hashicorp/null, 1,000 stacks",
                of(PER_INSTANCE) / null,
                1.0,
            ));
        }
    }
    section
}

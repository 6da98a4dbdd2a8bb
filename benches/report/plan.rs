//! `terraform plan` time for the trust policy of one role shared by N
//! stacks, along each path deputy offers, next to the floor (plain
//! `locals`) and a Go peer's per-instance data source (hashicorp/null's
//! `null_data_source`). A real broker on loopback (SQLite) holds the
//! stacks; a real Terraform plans.
//!
//! Only policies IAM accepts are measured: 100 and 1,000 stacks with
//! `trust_scope = "integration"`, and `"stack"` scope at the largest count
//! whose policy fits IAM's default quota of 2,048 characters.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deputy::model::integration::TrustScope;
use deputy::model::trust_policy::{
    Accepted, Actions, DEFAULT_MAX_LENGTH, check_length, document_json,
};
use deputy::model::{IntegrationId, Phase, PrincipalArn, StackId};
use deputy::wire::{IntegrationInput, StackInput};
use tokio::runtime::Runtime;

use crate::broker::{Backend, TestBroker};
use crate::report::{Section, Target};
use crate::tf;

/// Plans per cell: at least `MIN_RUNS`, and more (up to `MAX_RUNS`) until
/// `STEADY` has passed, so that sub-second cells get a stable median.
const MIN_RUNS: usize = 3;
const MAX_RUNS: usize = 15;
const STEADY: Duration = Duration::from_secs(3);

/// Provider binaries wrapped so that each run appends the provider
/// process's CPU time to a log: the plan time of a per-instance data source
/// is mostly Terraform's own, and this shows how much is the provider's.
pub struct Metered {
    pub deputy: PathBuf,
    pub null: PathBuf,
    dir: tempfile::TempDir,
}

impl Metered {
    /// Writes the wrappers. Terraform mirrors and starts them in place of
    /// the binaries; bash's `times` reports the provider's user and system
    /// time once it exits (at Terraform's shutdown request).
    pub fn install(deputy: &Path, null: &Path) -> std::io::Result<Metered> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let wrap = |name: &str, real: &Path| -> std::io::Result<PathBuf> {
            let path = dir.path().join(name);
            let log = dir.path().join(format!("{name}.cpu"));
            std::fs::write(
                &path,
                format!(
                    "#!/bin/bash\n{:?} \"$@\"\nstatus=$?\ntimes >> {:?}\nexit $status\n",
                    real, log
                ),
            )?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            Ok(path)
        };
        Ok(Metered {
            deputy: wrap("deputy", deputy)?,
            null: wrap("null", null)?,
            dir,
        })
    }

    /// CPU seconds the named provider's processes used since the last call.
    fn take(&self, name: &str) -> f64 {
        let log = self.dir.path().join(format!("{name}.cpu"));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        // `times` prints two lines like `0m0.140s 0m0.020s` (user, system):
        // the wrapper shell's own, then its child's, the provider's.
        text.split_whitespace()
            .filter_map(|t| {
                let (m, s) = t.trim_end_matches('s').split_once('m')?;
                Some(m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?)
            })
            .sum()
    }
}
pub const COUNTS: [usize; 2] = [100, 1_000];

const LOCALS: &str = "locals (floor)";
const FUNCTION: &str = "provider function";
const AGGREGATE: &str = "aggregate data source";
const PER_INSTANCE: &str = "per-instance data source";
const NULL: &str = "hashicorp/null per-instance";

fn stack_id(i: usize) -> String {
    format!("s{i:05}")
}

/// The most stacks whose stack-scoped policy fits IAM's default quota.
fn stack_scope_fit(principal: &PrincipalArn, integration: &IntegrationId) -> usize {
    (1..)
        .take_while(|n| {
            let stacks: Vec<(StackId, Vec<Phase>)> = (0..*n)
                .map(|i| (stack_id(i).parse().unwrap(), Phase::ALL.to_vec()))
                .collect();
            let accepted = Accepted::for_stacks(
                TrustScope::Stack,
                &"acme".parse().unwrap(),
                integration,
                None,
                &stacks,
            );
            let doc = document_json(principal, &accepted, Actions::ASSUME_ROLE);
            check_length(&doc, DEFAULT_MAX_LENGTH, *n).is_ok()
        })
        .count()
}

fn configs(
    n: usize,
    integration: &str,
    scope: TrustScope,
    principal: &str,
) -> Vec<(&'static str, String)> {
    let stacks =
        format!("locals {{\n  stacks = [for i in range({n}) : format(\"s%05d\", i)]\n}}\n");
    let options = match scope {
        TrustScope::Stack => String::new(),
        TrustScope::Integration => ", { trust_scope = \"integration\" }".into(),
    };
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
                "{stacks}output \"policy\" {{\n  value = provider::deputy::trust_policy_document(\"{principal}\", \"acme\", \"{integration}\", local.stacks, [\"read\", \"write\"]{options})\n}}\n"
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

/// One path's workspace and its plans so far.
struct Cell {
    path: &'static str,
    ws: tf::Workspace,
    /// Which metered provider the path runs: "deputy" or "null".
    provider: &'static str,
    times: Vec<Duration>,
    cpu_seconds: f64,
}

impl Cell {
    fn wants_more(&self) -> bool {
        self.times.len() < MIN_RUNS
            || (self.times.len() < MAX_RUNS && self.times.iter().sum::<Duration>() < STEADY)
    }

    fn plan(&mut self, metered: &Metered) {
        metered.take(self.provider);
        let start = Instant::now();
        self.ws
            .ok(&["plan", "-input=false", "-no-color", "-refresh=false"]);
        self.times.push(start.elapsed());
        self.cpu_seconds += metered.take(self.provider);
    }

    /// Median wall time, and the provider's mean CPU time, per plan.
    fn figures(&self) -> (f64, f64) {
        let mut times = self.times.clone();
        times.sort();
        (
            times[times.len() / 2].as_secs_f64(),
            self.cpu_seconds / times.len() as f64,
        )
    }
}

/// Plans every path in rounds, one plan of each per round, so that a slow
/// spell of the machine falls on all paths alike rather than on one.
fn measure(cells: &mut [Cell], metered: &Metered) {
    while cells.iter().any(Cell::wants_more) {
        for cell in cells.iter_mut().filter(|c| c.wants_more()) {
            cell.plan(metered);
        }
    }
}

pub fn run(rt: &Runtime, metered: &Metered) -> Section {
    let b = rt.block_on(TestBroker::start(Backend::Sqlite));
    let admin = b.admin();
    let integration = |name: &str, scope: TrustScope| {
        rt.block_on(admin.create_integration(&IntegrationInput {
            name: name.into(),
            role_arn: format!("arn:aws:iam::210987654321:role/{name}"),
            trust_scope: Some(scope.to_string()),
            ..Default::default()
        }))
        .unwrap()
        .id
    };
    let exact = integration("exact", TrustScope::Stack);
    let shared = integration("shared", TrustScope::Integration);
    let principal = rt.block_on(admin.account()).unwrap().aws_principal_arn;
    let fit = stack_scope_fit(&principal, &exact);
    rt.block_on(async {
        for i in 0..COUNTS[COUNTS.len() - 1] {
            let input = StackInput {
                id: stack_id(i),
                ..Default::default()
            };
            admin.create_stack(&input).await.unwrap();
        }
    });
    let mut section = Section::new(
        "Trust policy plan time",
        format!(
            "Wall time of `terraform plan -refresh=false` for the trust policy of one role \
             shared by N stacks (read and write External IDs each), median of {MIN_RUNS} to \
             {MAX_RUNS} plans per cell (more for the fast ones; the paths take turns, one plan \
             each per round), every path in the same run against the same broker (SQLite, loopback) and the \
             shipped provider build. \
             \"× floor\" divides by the `locals` row, which computes the same strings in \
             Terraform's language with no provider at all. \"provider CPU s\" is the CPU \
             time of the provider's own processes per plan (user + system); the rest of a \
             plan's time is Terraform's."
        ),
        vec![
            "stacks",
            "scope",
            "path",
            "plan s",
            "× floor",
            "× null",
            "provider CPU s",
        ],
    );
    let env = [
        ("DEPUTY_ENDPOINT", b.base.as_str()),
        ("DEPUTY_TOKEN", b.admin_token.as_str()),
    ];
    let runs = [
        (fit, TrustScope::Stack, &exact),
        (COUNTS[0], TrustScope::Integration, &shared),
        (COUNTS[1], TrustScope::Integration, &shared),
    ];
    for (n, scope, integration) in runs {
        let mut cells: Vec<Cell> = configs(n, integration, scope, principal.as_str())
            .into_iter()
            .map(|(path, config)| Cell {
                path,
                ws: tf::Workspace::with_env(&config, &env),
                provider: if path == NULL { "null" } else { "deputy" },
                times: Vec::new(),
                cpu_seconds: 0.0,
            })
            .collect();
        measure(&mut cells, metered);
        let times: Vec<(&str, (f64, f64))> = cells.iter().map(|c| (c.path, c.figures())).collect();
        let figures = |path: &str| times.iter().find(|(p, _)| *p == path).unwrap().1;
        let of = |path: &str| figures(path).0;
        let (floor, null) = (of(LOCALS), of(NULL));
        for (path, (t, cpu)) in &times {
            section.row(vec![
                n.to_string(),
                scope.to_string(),
                (*path).into(),
                format!("{t:.2}"),
                format!("{:.2}×", t / floor),
                format!("{:.2}×", t / null),
                format!("{cpu:.2}"),
            ]);
        }
        if n == 1_000 {
            let (deputy_plan, deputy_cpu) = figures(PER_INSTANCE);
            let (null_plan, null_cpu) = figures(NULL);
            section.notes.push(format!(
                "Per-instance data sources at {n} stacks: deputy's provider used {deputy_cpu:.2} s \
                 of CPU in a {deputy_plan:.1} s plan, hashicorp/null's {null_cpu:.2} s in \
                 {null_plan:.1} s. Nearly all of that time is Terraform's own work per instance, \
                 which grows faster than the instance count (compare the 100-stack rows), so \
                 the two land within noise of each other whatever the provider does; the \
                 aggregate data source and the function avoid it by being one instance."
            ));
            section.targets.push(Target::ratio_at_most(
                "aggregate data source vs `locals` floor, 1,000 stacks (integration scope)",
                of(AGGREGATE) / floor,
                1.5,
            ));
            section.targets.push(Target::ratio_at_most(
                "per-instance data source vs hashicorp/null, 1,000 stacks (integration scope)",
                of(PER_INSTANCE) / null,
                1.0,
            ));
        }
    }
    section
}

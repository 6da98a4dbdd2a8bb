//! The benchmark report: each comparison deputy claims against its peers,
//! measured side by side in one run on this machine, printed as Markdown
//! and written to `docs/benchmarks.md` with the machine's details and the
//! targets of issue #6, met or not.
//!
//!     scripts/bench                          # fetches the peers, then runs all
//!     cargo bench --bench report -- vend     # one or more sections, printed only
//!
//! Sections: `startup`, `plan`, `crud`, `vend`, `flood`, `mask`, `console`, `verify`. The file is only written
//! when every section ran, so it never mixes runs.

// The fakecloud-backed `deputy serve` of the AWS tests, for `verify`.
use testkit::aws_broker;
use testkit::broker;
use testkit::browser;
mod console;
mod crud;
use testkit::fakecloud;
mod fast_sts;
mod flood;
mod machine;
mod mask;
mod plan;
mod report;
mod startup;
use testkit::terraform as tf;
mod vend;
mod verify;

use std::path::Path;

use report::Section;

const SECTIONS: [&str; 8] = [
    "startup", "plan", "crud", "vend", "flood", "mask", "console", "verify",
];

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; anything else is a section name.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "usage: scripts/bench [SECTION...]\n\n\
             Measures deputy next to its peers and prints the figures; with no SECTION, runs \
             them all and writes docs/benchmarks.md.\n\n\
             sections: {}",
            SECTIONS.join(", ")
        );
        return Ok(());
    }
    if let Some(flag) = args.iter().find(|a| a.starts_with('-') && *a != "--bench") {
        anyhow::bail!("unknown option {flag:?}; see --help");
    }
    let chosen: Vec<String> = args.into_iter().filter(|a| a != "--bench").collect();
    if let Some(unknown) = chosen.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
        anyhow::bail!(
            "unknown section {unknown:?}; choose from {}",
            SECTIONS.join(", ")
        );
    }
    let wanted = |s: &str| chosen.is_empty() || chosen.iter().any(|c| c == s);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let null = root.join("target/tools/peers/terraform-provider-null_v2.1.2_x4");
    let shipped = root.join("target/provider/terraform-provider-deputy");
    if wanted("startup") || wanted("plan") {
        if !null.exists() {
            anyhow::bail!(
                "hashicorp/null, the peer these sections compare with, is not at {}: \
                 run `scripts/setup --peers` (or `scripts/bench`, which does)",
                null.display()
            );
        }
        if !shipped.exists() {
            anyhow::bail!(
                "the shipped provider build is not at {}: run `cargo build --profile provider \
                 --bin terraform-provider-deputy` (or `scripts/bench`, which does)",
                shipped.display()
            );
        }
    }
    let metered = plan::Metered::install(&shipped, &null)?;
    // The broker's own AWS identity for the STS stand-in, and the providers
    // Terraform plans with. Set before any thread starts, as `set_var`
    // requires.
    // SAFETY: no other thread exists yet.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIABENCHBROKER00001");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "bench-secret");
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("DEPUTY_TEST_PROVIDER", &metered.deputy);
        std::env::set_var("DEPUTY_TEST_NULL_PROVIDER", &metered.null);
    }
    let rt = tokio::runtime::Runtime::new()?;
    let machine = machine::describe(&tf::terraform_binary());
    for (key, value) in &machine {
        println!("{key:<10} {value}");
    }
    let mut sections: Vec<Section> = Vec::new();
    let mut show = |s: Section| {
        println!("\n{}", s.markdown());
        sections.push(s);
    };
    if wanted("startup") {
        show(rt.block_on(startup::run(&shipped, &null))?);
    }
    if wanted("plan") {
        show(plan::run(&rt, &metered));
    }
    if wanted("crud") {
        show(rt.block_on(crud::run()));
    }
    if wanted("vend") {
        show(rt.block_on(vend::run()));
    }
    if wanted("flood") {
        show(rt.block_on(flood::run()));
    }
    if wanted("mask") {
        show(rt.block_on(mask::run()));
    }
    if wanted("console") {
        show(rt.block_on(console::run()));
    }
    if wanted("verify") {
        show(rt.block_on(verify::run()));
    }
    if !chosen.is_empty() {
        println!("(a partial run: docs/benchmarks.md left as it was)");
        return Ok(());
    }
    let path = root.join("docs/benchmarks.md");
    std::fs::write(&path, document(&machine, &sections))?;
    println!("\nwritten to {}", path.display());
    Ok(())
}

fn document(machine: &[(&str, String)], sections: &[Section]) -> String {
    let mut out = String::from(
        "# Benchmarks\n\n\
         Written by `scripts/bench` (`cargo bench --bench report`); every figure below comes \
         from the one run described here. Each comparison is measured side by side in that \
         run, so ratios are more telling than absolute times: rerun on your machine to \
         compare.\n\n",
    );
    for (key, value) in machine {
        out.push_str(&format!("- **{key}**: {value}\n"));
    }
    out.push_str("\n## Targets\n\n");
    out.push_str(&report::summary(sections));
    for s in sections {
        out.push('\n');
        out.push_str(&s.markdown());
    }
    out
}

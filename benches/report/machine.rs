//! The machine a report was measured on: figures mean little without it.

use std::process::Command;

pub fn describe(terraform: &std::path::Path) -> Vec<(&'static str, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches(" kB").parse::<u64>().ok())
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0)
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or("unknown".into(), |s| s.trim().to_string());
    vec![
        ("date", now()),
        ("commit", commit()),
        ("cpu", format!("{cpu}, {cores} usable cores")),
        ("memory", memory),
        ("kernel", kernel),
        ("rustc", output("rustc", &["--version"])),
        (
            "terraform",
            output(&terraform.to_string_lossy(), &["version"])
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        ),
    ]
}

/// The commit measured, flagged when the working tree differs from it.
fn commit() -> String {
    let head = output("git", &["rev-parse", "--short", "HEAD"]);
    // The report itself is rewritten by every run.
    let changed = output(
        "git",
        &[
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":!docs/benchmarks.md",
        ],
    );
    if changed.is_empty() || changed == "unknown" {
        head
    } else {
        format!("{head} with uncommitted changes")
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("unknown".into(), |o| {
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        })
}

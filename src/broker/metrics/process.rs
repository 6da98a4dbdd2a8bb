//! The process's own series, under the names Prometheus's client libraries
//! use (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
//! `process_open_fds`, `process_max_fds`, `process_start_time_seconds`),
//! so the usual dashboards and alerts work unchanged. Read from `/proc` at
//! each scrape; elsewhere than Linux they are left out.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

#[derive(Debug)]
pub struct Process;

/// What `/proc` says of this process.
struct Sample {
    cpu_seconds: f64,
    resident_bytes: i64,
    start_time_seconds: f64,
    open_fds: i64,
    max_fds: i64,
}

impl Sample {
    fn read() -> Option<Sample> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name is in parentheses and may hold spaces: the
        // fields counted are those after its closing parenthesis, which
        // start at field 3 (state).
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3)?.parse::<f64>().ok();
        // SAFETY: sysconf reads a constant of the system; no memory is
        // passed.
        let (ticks, page) = unsafe {
            (
                nix::libc::sysconf(nix::libc::_SC_CLK_TCK) as f64,
                nix::libc::sysconf(nix::libc::_SC_PAGESIZE) as f64,
            )
        };
        let boot: f64 = std::fs::read_to_string("/proc/stat")
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())?;
        let max_fds = std::fs::read_to_string("/proc/self/limits")
            .ok()?
            .lines()
            .find(|l| l.starts_with("Max open files"))?
            .split_whitespace()
            .nth(3)?
            .parse()
            .ok()?;
        Some(Sample {
            cpu_seconds: (field(14)? + field(15)?) / ticks,
            resident_bytes: (field(24)? * page) as i64,
            start_time_seconds: boot + field(22)? / ticks,
            open_fds: std::fs::read_dir("/proc/self/fd").ok()?.count() as i64,
            max_fds,
        })
    }
}

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let Some(s) = Sample::read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(s.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "CPU time the process used, user and system, in seconds",
            None,
            cpu.metric_type(),
        )?)?;
        let gauges: [(&str, &str, ConstGauge<f64>); 4] = [
            (
                "process_resident_memory_bytes",
                "Resident memory of the process, in bytes",
                ConstGauge::new(s.resident_bytes as f64),
            ),
            (
                "process_start_time_seconds",
                "When the process started, in seconds since the Unix epoch",
                ConstGauge::new(s.start_time_seconds),
            ),
            (
                "process_open_fds",
                "File descriptors the process has open",
                ConstGauge::new(s.open_fds as f64),
            ),
            (
                "process_max_fds",
                "The most file descriptors the process may open",
                ConstGauge::new(s.max_fds as f64),
            ),
        ];
        for (name, help, gauge) in gauges {
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}

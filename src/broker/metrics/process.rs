//! The process's own series, under the names Prometheus's client libraries
//! use (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
//! `process_open_fds`, `process_max_fds`, `process_start_time_seconds`),
//! so the usual dashboards and alerts work unchanged. Read from
//! `/proc/self` at each scrape (the systemd unit's `ProcSubset=pid` leaves
//! only that), each series left out when its file cannot be read; the
//! start time is taken when the broker starts.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

#[derive(Debug)]
pub struct Process {
    /// When the broker started, in seconds since the Unix epoch.
    started: f64,
}

impl Process {
    pub fn new() -> Process {
        Process {
            started: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        }
    }
}

/// What `/proc/self` says of this process; `None` where it cannot be read.
struct Sample {
    cpu_seconds: Option<f64>,
    resident_bytes: Option<f64>,
    open_fds: Option<f64>,
    max_fds: Option<f64>,
}

impl Sample {
    fn read() -> Sample {
        let stat = std::fs::read_to_string("/proc/self/stat").ok();
        // The command name is in parentheses and may hold spaces: the
        // fields counted are those after its closing parenthesis, which
        // start at field 3 (state).
        let fields: Vec<String> = stat
            .as_deref()
            .and_then(|s| s.rsplit_once(')'))
            .map(|(_, rest)| rest.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let field = |n: usize| fields.get(n - 3)?.parse::<f64>().ok();
        // SAFETY: sysconf reads a constant of the system; no memory is
        // passed.
        let (ticks, page) = unsafe {
            (
                nix::libc::sysconf(nix::libc::_SC_CLK_TCK) as f64,
                nix::libc::sysconf(nix::libc::_SC_PAGESIZE) as f64,
            )
        };
        let max_fds = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|limits| {
                limits
                    .lines()
                    .find(|l| l.starts_with("Max open files"))?
                    .split_whitespace()
                    .nth(3)?
                    .parse()
                    .ok()
            });
        Sample {
            cpu_seconds: field(14)
                .zip(field(15))
                .filter(|_| ticks > 0.0)
                .map(|(user, system)| (user + system) / ticks),
            resident_bytes: field(24).map(|pages| pages * page),
            open_fds: std::fs::read_dir("/proc/self/fd")
                .ok()
                .map(|d| d.count() as f64),
            max_fds,
        }
    }
}

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let s = Sample::read();
        if let Some(cpu) = s.cpu_seconds {
            let cpu = ConstCounter::new(cpu);
            cpu.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "CPU time the process used, user and system, in seconds",
                None,
                cpu.metric_type(),
            )?)?;
        }
        let gauges = [
            (
                "process_resident_memory_bytes",
                "Resident memory of the process, in bytes",
                s.resident_bytes,
            ),
            (
                "process_start_time_seconds",
                "When the broker started, in seconds since the Unix epoch",
                Some(self.started),
            ),
            (
                "process_open_fds",
                "File descriptors the process has open",
                s.open_fds,
            ),
            (
                "process_max_fds",
                "The most file descriptors the process may open",
                s.max_fds,
            ),
        ];
        for (name, help, value) in gauges {
            if let Some(value) = value {
                let gauge = ConstGauge::new(value);
                gauge.encode(encoder.encode_descriptor(
                    name,
                    help,
                    None,
                    gauge.metric_type(),
                )?)?;
            }
        }
        Ok(())
    }
}

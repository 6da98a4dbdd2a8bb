//! Broker CRUD throughput over real HTTP on loopback, SQLite and PostgreSQL
//! side by side (the PostgreSQL cluster is a throwaway one this process
//! starts, as the tests do).

use std::time::{Duration, Instant};

use deputy::wire::StackInput;
use futures::StreamExt;

use crate::broker::{Backend, TestBroker};
use crate::report::Section;

const WRITES: usize = 2_000;
const READS: usize = 10_000;
const IN_FLIGHT: usize = 16;

async fn timed<F, Fut>(count: usize, op: F) -> Duration
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    futures::stream::iter(0..count)
        .map(op)
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>()
        .await;
    start.elapsed()
}

pub async fn run() -> Section {
    let mut section = Section::new(
        "Broker CRUD throughput",
        format!(
            "{WRITES} stack creates, then {READS} stack reads, {IN_FLIGHT} in flight, HTTP/1.1 on \
             loopback with an admin key. Every create also writes an audit row; SQLite runs \
             WAL with `synchronous=FULL`, PostgreSQL its defaults (`fsync` on)."
        ),
        vec!["store", "writes/s", "reads/s"],
    );
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let broker = TestBroker::start(backend).await;
        let client = broker.admin();
        let writes = timed(WRITES, |n| {
            let client = client.clone();
            async move {
                let input = StackInput {
                    id: format!("s{n}"),
                    ..Default::default()
                };
                client.create_stack(&input).await.expect("create");
            }
        })
        .await;
        let reads = timed(READS, |n| {
            let client = client.clone();
            async move {
                client
                    .stack(&format!("s{}", n % WRITES))
                    .await
                    .expect("read");
            }
        })
        .await;
        section.row(vec![
            format!("{backend}"),
            format!("{:.0}", WRITES as f64 / writes.as_secs_f64()),
            format!("{:.0}", READS as f64 / reads.as_secs_f64()),
        ]);
    }
    section
}

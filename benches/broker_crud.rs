//! Broker CRUD throughput over real HTTP on loopback, SQLite and PostgreSQL
//! side by side (the PostgreSQL cluster is a throwaway one this process
//! starts, as the tests do).
//!
//!     cargo bench --bench broker_crud

#[path = "../tests/broker/support.rs"]
#[allow(dead_code, unused_macros)]
mod support;

use std::time::{Duration, Instant};

use deputy::api::StackInput;
use futures::StreamExt;
use support::{Backend, TestBroker};

const WRITES: usize = 2_000;
const READS: usize = 10_000;
const CONCURRENCY: usize = 16;

async fn run<F, Fut>(count: usize, op: F) -> Duration
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    futures::stream::iter(0..count)
        .map(op)
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
    start.elapsed()
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!(
        "{WRITES} creates and {READS} reads per store, {CONCURRENCY} in flight, HTTP/1.1 on loopback"
    );
    println!("{:<12} {:>10} {:>10}", "store", "writes/s", "reads/s");
    rt.block_on(async {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let broker = TestBroker::start(backend).await;
            let client = broker.admin();
            let write_time = run(WRITES, |n| {
                let client = client.clone();
                async move {
                    let input = StackInput {
                        id: Some(format!("s{n}")),
                        ..Default::default()
                    };
                    client.create_stack(&input).await.expect("create");
                }
            })
            .await;
            let read_time = run(READS, |n| {
                let client = client.clone();
                async move {
                    client
                        .stack(&format!("s{}", n % WRITES))
                        .await
                        .expect("read");
                }
            })
            .await;
            println!(
                "{:<12} {:>10.0} {:>10.0}",
                format!("{backend:?}"),
                WRITES as f64 / write_time.as_secs_f64(),
                READS as f64 / read_time.as_secs_f64()
            );
        }
    });
}

//! Credential vending through the broker on loopback, against the STS
//! emulator: latency percentiles and throughput of `POST /v1/credentials`,
//! next to the same AssumeRole made directly, to separate the broker's own
//! share from STS's.
//!
//!     cargo bench --bench vend

#[path = "../tests/sts/emulator.rs"]
mod emulator;
#[path = "../tests/broker/support.rs"]
#[allow(dead_code, unused_macros)]
mod support;

use std::time::{Duration, Instant};

use deputy::api::*;
use deputy::model::{ExternalId, Phase};
use deputy::sts::{AssumeRequest, Sts};
use futures::StreamExt;

const SEQUENTIAL: usize = 300;
const CONCURRENT: usize = 1_000;
const IN_FLIGHT: usize = 16;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
}

fn main() {
    let emulator = emulator::Emulator::start();
    // SAFETY: set before any other thread starts.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEBROKER001");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "emulator-secret");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let b = support::TestBroker::start_with(support::Backend::Sqlite, Some(emulator.endpoint.clone()), 5).await;
        let admin = b.admin();
        admin.create_stack(&StackInput { id: Some("net".into()), ..Default::default() }).await.unwrap();
        let i = admin
            .create_integration(&IntegrationInput {
                name: "bench".into(),
                role_arn: "arn:aws:iam::123456789012:role/bench".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let id = format!("acme@{}@net@write", i.id);
        emulator.role("bench", "arn:aws:iam::123456789012:root", &[id.clone(), format!("acme@{}@net@read", i.id)], 0);
        admin.attach(&i.id, &AttachmentInput { stack_id: "net".into(), read: true, write: true }).await.unwrap();
        let runner = admin
            .create_key(&ApiKeyInput {
                role: KeyRole::Runner,
                stack_id: Some("net".into()),
                phases: None,
                description: String::new(),
                expires_in_seconds: None,
            })
            .await
            .unwrap();
        let client = b.client(&runner.token);
        let request = |n: usize| CredentialsRequest { stack_id: None, phase: Phase::Write, run_id: format!("bench-{n}") };

        let mut via_broker = Vec::new();
        for n in 0..SEQUENTIAL {
            let start = Instant::now();
            client.credentials(&request(n)).await.unwrap();
            via_broker.push(start.elapsed());
        }
        let sts = Sts::load(Some(&emulator.endpoint)).await;
        let role = i.role_arn.parse().unwrap();
        let external: ExternalId = id.parse().unwrap();
        let mut direct = Vec::new();
        for n in 0..SEQUENTIAL {
            let start = Instant::now();
            sts.assume(&AssumeRequest {
                role: &role,
                external_id: Some(&external),
                session_name: &format!("bench-{n}"),
                duration: Duration::from_secs(3600),
                tags: &[],
                region: "us-east-1",
            })
            .await
            .unwrap();
            direct.push(start.elapsed());
        }
        let start = Instant::now();
        futures::stream::iter(0..CONCURRENT)
            .map(|n| {
                let client = client.clone();
                async move { client.credentials(&request(n)).await.unwrap() }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect::<Vec<_>>()
            .await;
        let throughput = CONCURRENT as f64 / start.elapsed().as_secs_f64();
        via_broker.sort();
        direct.sort();
        println!("STS: tools/sts-emulator (moto, Python) on loopback; broker on SQLite; {SEQUENTIAL} sequential vends");
        println!("{:<28} {:>9} {:>9}", "", "p50 ms", "p99 ms");
        println!("{:<28} {:>9.2} {:>9.2}", "vend via broker (HTTP)", percentile(&via_broker, 0.5), percentile(&via_broker, 0.99));
        println!("{:<28} {:>9.2} {:>9.2}", "AssumeRole direct", percentile(&direct, 0.5), percentile(&direct, 0.99));
        println!(
            "{:<28} {:>9.2} {:>9.2}",
            "broker share (difference)",
            percentile(&via_broker, 0.5) - percentile(&direct, 0.5),
            percentile(&via_broker, 0.99) - percentile(&direct, 0.99)
        );
        println!("throughput: {throughput:.0} vends/s with {IN_FLIGHT} in flight ({CONCURRENT} vends)");
    });
}

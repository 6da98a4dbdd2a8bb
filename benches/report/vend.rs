//! Credential vending through the broker, against the fast STS stand-in:
//! latency percentiles and throughput of `POST /v1/credentials`, next to
//! the same AssumeRole made directly, so that the broker's own share shows.

use std::time::{Duration, Instant};

use deputy::model::{ExternalId, Phase};
use deputy::sts::{AssumeRequest, Sts};
use deputy::wire::*;
use futures::StreamExt;

use crate::broker::{Backend, TestBroker};
use crate::fast_sts::FastSts;
use crate::report::{Section, Target, ms, percentile};

const SEQUENTIAL: usize = 2_000;
const CONCURRENT: usize = 5_000;
const IN_FLIGHT: usize = 32;
const ROLE: &str = "arn:aws:iam::123456789012:role/bench";

struct Figures {
    /// Sorted latencies of sequential vends through the broker.
    via_broker: Vec<Duration>,
    /// Sorted latencies of the same AssumeRole, made directly.
    direct: Vec<Duration>,
    per_second: f64,
}

/// A broker whose stack `net` may vend its write phase through the
/// stand-in, a runner key's client for it, and the External ID it uses.
pub struct Ready {
    pub broker: TestBroker,
    pub runner: deputy::client::Client,
    pub write_id: String,
}

pub async fn ready(backend: Backend, sts: &FastSts) -> Ready {
    let b = TestBroker::start_with(backend, Some(sts.endpoint.clone()), 5).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput {
            id: "net".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let i = admin
        .create_integration(&IntegrationInput {
            name: "bench".into(),
            role_arn: ROLE.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let write_id = format!("acme@{}@net@write", i.id);
    sts.trust(ROLE, [write_id.clone(), format!("acme@{}@net@read", i.id)]);
    // Attaching verifies the role against the stand-in, as against AWS.
    admin
        .attach(
            &i.id,
            &AttachmentInput {
                stack_id: "net".into(),
                read: true,
                write: true,
            },
        )
        .await
        .unwrap();
    let runner = admin
        .create_key(&ApiKeyInput::runner("net", &[Phase::Write]))
        .await
        .unwrap();
    Ready {
        runner: b.client(&runner.token),
        broker: b,
        write_id,
    }
}

/// A vend's request, with a run id of its own.
pub fn request(n: usize) -> CredentialsRequest {
    CredentialsRequest {
        stack_id: None,
        phase: Phase::Write,
        run_id: format!("bench-{n}"),
    }
}

async fn measure(backend: Backend, sts: &FastSts) -> Figures {
    let Ready {
        broker: _broker,
        runner: client,
        write_id,
    } = ready(backend, sts).await;
    let mut via_broker = Vec::with_capacity(SEQUENTIAL);
    for n in 0..SEQUENTIAL {
        let start = Instant::now();
        client.credentials(&request(n)).await.unwrap();
        via_broker.push(start.elapsed());
    }

    let direct_sts = Sts::load(Some(&sts.endpoint)).await;
    let role = ROLE.parse().unwrap();
    let external: ExternalId = write_id.parse().unwrap();
    let mut direct = Vec::with_capacity(SEQUENTIAL);
    for n in 0..SEQUENTIAL {
        let start = Instant::now();
        direct_sts
            .assume(&AssumeRequest {
                role: &role,
                external_id: Some(&external),
                session_name: &format!("bench-{n}"),
                duration: Duration::from_secs(3600),
                tags: &[],
                source_identity: None,
                policy_arns: &[],
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
    let per_second = CONCURRENT as f64 / start.elapsed().as_secs_f64();
    via_broker.sort();
    direct.sort();
    Figures {
        via_broker,
        direct,
        per_second,
    }
}

pub async fn run() -> Section {
    let sts = FastSts::start();
    let mut section = Section::new(
        "Credential vending",
        format!(
            "`POST /v1/credentials` with a runner key over HTTP/1.1 on loopback, against a fast \
             STS stand-in (`benches/report/fast_sts.rs`: answers AssumeRole in microseconds and \
             still refuses a wrong External ID). Latency: {SEQUENTIAL} sequential vends, then \
             {SEQUENTIAL} AssumeRole calls made directly with the same SDK client setup; the \
             broker's share is the difference. Throughput: {CONCURRENT} vends, {IN_FLIGHT} in \
             flight. Each vend checks the key, reads the attachment and integration, calls \
             STS and writes an audit event."
        ),
        vec![
            "store",
            "vend p50 ms",
            "vend p99 ms",
            "STS direct p50 ms",
            "STS direct p99 ms",
            "broker share p50 ms",
            "broker share p99 ms",
            "vends/s",
        ],
    );
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let f = measure(backend, &sts).await;
        let at = |xs: &[Duration], p| percentile(xs, p);
        let share = |p| at(&f.via_broker, p).saturating_sub(at(&f.direct, p));
        section.row(vec![
            format!("{backend}"),
            ms(at(&f.via_broker, 0.5)),
            ms(at(&f.via_broker, 0.99)),
            ms(at(&f.direct, 0.5)),
            ms(at(&f.direct, 0.99)),
            ms(share(0.5)),
            ms(share(0.99)),
            format!("{:.0}", f.per_second),
        ]);
        let p99 = share(0.99);
        section.targets.push(Target {
            what: format!("broker overhead per vend excluding STS, p99, {backend}"),
            limit: "< 2 ms".into(),
            measured: format!("{} ms", ms(p99)),
            met: p99 < Duration::from_millis(2),
        });
        section.targets.push(Target {
            what: format!("vend throughput, {backend}"),
            limit: "≥ 1,000/s".into(),
            measured: format!("{:.0}/s", f.per_second),
            met: f.per_second >= 1000.0,
        });
    }
    section
}

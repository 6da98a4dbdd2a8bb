//! Cold start of a provider plugin, measured the way Terraform sees it:
//! spawn → handshake line → first schema answer, and the process's peak RSS
//! at that point; deputy next to hashicorp/null (Go, protocol 5).

use std::path::Path;
use std::time::Duration;

use tfplugin::process::launch::{ClientIdentity, Plugin};
use tfplugin::proto::tfplugin6::{get_provider_schema, provider_client::ProviderClient};

use crate::report::{Section, Target, ms};

const RUNS: usize = 15;

struct Sample {
    handshake: Duration,
    schema: Duration,
    peak_rss_kib: u64,
    anonymous_kib: u64,
}

async fn measure(binary: &Path, protocol: u32) -> anyhow::Result<Sample> {
    let id = ClientIdentity::generate()?;
    let plugin = Plugin::start(binary, &protocol.to_string(), Some(&id)).await?;
    let channel = plugin.connect(Some(&id)).await?;
    if protocol == 6 {
        ProviderClient::new(channel)
            .get_provider_schema(get_provider_schema::Request {})
            .await?;
    } else {
        // Protocol 5's GetSchema; the answer is decoded as an empty message
        // (protobuf skips fields it does not know), which is all we time.
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await?;
        let path =
            tonic::codegen::http::uri::PathAndQuery::from_static("/tfplugin5.Provider/GetSchema");
        grpc.unary(
            tonic::Request::new(()),
            path,
            tonic_prost::ProstCodec::<(), ()>::default(),
        )
        .await?;
    }
    let schema = plugin.started.elapsed();
    Ok(Sample {
        handshake: plugin.handshake_after,
        schema,
        peak_rss_kib: plugin.peak_rss_kib().unwrap_or(0),
        anonymous_kib: plugin.anonymous_kib().unwrap_or(0),
    })
}

struct Summary {
    handshake: Duration,
    schema: Duration,
    peak_rss_kib: u64,
    anonymous_kib: u64,
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

async fn summarize(binary: &Path, protocol: u32) -> anyhow::Result<Summary> {
    let mut samples = Vec::new();
    for _ in 0..RUNS {
        samples.push(measure(binary, protocol).await?);
    }
    let median_kib = |field: fn(&Sample) -> u64| {
        let mut kib: Vec<u64> = samples.iter().map(field).collect();
        kib.sort_unstable();
        kib[kib.len() / 2]
    };
    Ok(Summary {
        handshake: median(samples.iter().map(|s| s.handshake).collect()),
        schema: median(samples.iter().map(|s| s.schema).collect()),
        peak_rss_kib: median_kib(|s| s.peak_rss_kib),
        anonymous_kib: median_kib(|s| s.anonymous_kib),
    })
}

/// `shipped` is the provider as released (the size-optimised `provider`
/// profile); the release-profile build is shown beside it.
pub async fn run(shipped: &Path, null: &Path) -> anyhow::Result<Section> {
    let release = Path::new(env!("CARGO_BIN_EXE_terraform-provider-deputy"));
    // Each binary's first start warms the page cache for the rest; one
    // unmeasured start each evens that out.
    for (binary, protocol) in [(shipped, 6), (release, 6), (null, 5)] {
        measure(binary, protocol).await?;
    }
    let d = summarize(shipped, 6).await?;
    let r = summarize(release, 6).await?;
    let n = summarize(null, 5).await?;
    let mut section = Section::new(
        "Provider cold start",
        format!(
            "Spawn → handshake line on stdout → first `GetProviderSchema` (protocol 5: \
             `GetSchema`) answer, over AutoMTLS as Terraform does it; median of {RUNS} \
             starts each, for the times and for the peak RSS (`VmHWM` when the schema has \
             arrived; Go's varies by a few MiB from start to start). deputy's provider ships \
             built with the `provider` profile (`opt-level = \"z\"`); the `release` build is \
             shown for comparison."
        ),
        vec![
            "provider",
            "handshake ms",
            "to schema ms",
            "peak RSS MiB",
            "of it anonymous MiB",
        ],
    );
    for (name, s) in [
        ("deputy, shipped (`provider` profile)", &d),
        ("deputy, `release` profile", &r),
        ("hashicorp/null 2.1.2 (protocol 5)", &n),
    ] {
        section.row(vec![
            name.into(),
            ms(s.handshake),
            ms(s.schema),
            format!("{:.1}", s.peak_rss_kib as f64 / 1024.0),
            format!("{:.1}", s.anonymous_kib as f64 / 1024.0),
        ]);
    }
    let time_ratio = d.schema.as_secs_f64() / n.schema.as_secs_f64();
    let rss_ratio = d.peak_rss_kib as f64 / n.peak_rss_kib as f64;
    section.row(vec![
        "shipped deputy / null".into(),
        format!(
            "{:.2}×",
            d.handshake.as_secs_f64() / n.handshake.as_secs_f64()
        ),
        format!("{time_ratio:.2}×"),
        format!("{rss_ratio:.2}×"),
        String::new(),
    ]);
    section.notes.push(
        "\"Of it anonymous\" is `RssAnon` once the schema has arrived: heap and stacks. The \
         rest of deputy's RSS is file-backed, mostly pages of its own binary, which is why \
         building it for size is what shrinks it."
            .into(),
    );
    section.targets.push(Target::ratio_at_most(
        "provider cold start to schema vs hashicorp/null",
        time_ratio,
        0.2,
    ));
    section.targets.push(Target::ratio_at_most(
        "provider peak RSS vs hashicorp/null",
        rss_ratio,
        0.33,
    ));
    Ok(section)
}

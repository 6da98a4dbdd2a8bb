//! Cold start of a provider plugin, measured the way Terraform sees it:
//! spawn → handshake line → first GetProviderSchema answer, and the
//! process's peak RSS at that point. Runs deputy's provider and, side by
//! side, hashicorp/null 2.1.2 (Go, protocol 5) when `scripts/setup --peers`
//! has fetched it.
//!
//!     cargo bench --bench plugin_startup

use std::path::{Path, PathBuf};
use std::time::Duration;

use deputy::tfplugin::launch::{ClientIdentity, Plugin};
use deputy::tfplugin::proto::tfplugin6::{get_provider_schema, provider_client::ProviderClient};

const RUNS: usize = 15;

struct Sample {
    handshake: Duration,
    schema: Duration,
    peak_rss_kib: u64,
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
    })
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

async fn report(name: &str, binary: &Path, protocol: u32) -> anyhow::Result<(Duration, u64)> {
    let mut samples = Vec::new();
    for _ in 0..RUNS {
        samples.push(measure(binary, protocol).await?);
    }
    let handshake = median(samples.iter().map(|s| s.handshake).collect());
    let schema = median(samples.iter().map(|s| s.schema).collect());
    let rss = samples.iter().map(|s| s.peak_rss_kib).max().unwrap_or(0);
    println!(
        "{name:<28} {:>12.1} {:>14.1} {:>14.1}",
        handshake.as_secs_f64() * 1e3,
        schema.as_secs_f64() * 1e3,
        rss as f64 / 1024.0
    );
    Ok((schema, rss))
}

fn null_provider() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/tools/peers/terraform-provider-null_v2.1.2_x4")
}

fn main() -> anyhow::Result<()> {
    let deputy = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-deputy"));
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        println!("median of {RUNS} cold starts each");
        println!(
            "{:<28} {:>12} {:>14} {:>14}",
            "provider", "handshake ms", "to schema ms", "peak RSS MiB"
        );
        let (d_schema, d_rss) = report("deputy (protocol 6)", &deputy, 6).await?;
        let null = null_provider();
        if null.exists() {
            let (n_schema, n_rss) = report("hashicorp/null 2.1.2 (5)", &null, 5).await?;
            println!(
                "ratios deputy/null: time to schema {:.2}x, peak RSS {:.2}x",
                d_schema.as_secs_f64() / n_schema.as_secs_f64(),
                d_rss as f64 / n_rss as f64
            );
        } else {
            println!(
                "(hashicorp/null not found at {}: run `scripts/setup --peers`)",
                null.display()
            );
        }
        Ok(())
    })
}

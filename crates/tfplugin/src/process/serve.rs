//! Running a provider as a plugin process: handshake, listener, AutoMTLS,
//! the side services go-plugin expects, signals and shutdown.
//!
//! A provider binary's `main` is one call to [`main`].

use std::io::Write as _;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use super::super::proto::{plugin as gp, tfplugin6 as pb};
use super::super::provider::Provider;
use super::super::server::ProviderService;
use super::handshake::{self, Address};
use super::tls::ServerIdentity;

/// Terraform's Go SDK accepts messages up to 256 MiB; tonic's default of
/// 4 MiB would fail on large schemas or states.
const MAX_MESSAGE_BYTES: usize = 256 << 20;
/// How long a client gets to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After a Shutdown request, how long in-flight responses get before exit.
/// Terraform force-kills plugins 2 s after asking.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

pub struct Options {
    /// The binary's name, for messages to people who run it by hand.
    pub binary_name: &'static str,
    /// Full source address, e.g. `registry.terraform.io/deputy/deputy`,
    /// printed in debug mode's `TF_REATTACH_PROVIDERS`.
    pub provider_address: &'static str,
    /// hclog `@module` of log lines.
    pub log_module: &'static str,
    /// The provider's own crates (tracing targets), logged at the level
    /// Terraform asks for; this crate is one of them. Other crates' events
    /// are logged only from warnings up.
    pub log_targets: &'static [&'static str],
}

/// Runs the plugin: `--debug` serves for a hand-started Terraform session,
/// otherwise the process must have been started by Terraform.
pub fn main<P: Provider>(provider: P, options: Options) -> ExitCode {
    let debug = std::env::args().skip(1).any(|a| a == "--debug");
    if !debug && !handshake::started_by_terraform() {
        eprintln!(
            "{}",
            handshake::not_started_by_terraform_message(options.binary_name)
        );
        return ExitCode::FAILURE;
    }
    super::log::init(
        options.log_module,
        options.log_targets,
        super::log::level_from_env(),
    );
    // One thread: RPCs are short and I/O-bound, and Terraform starts a
    // provider process per command, so start-up and memory matter more.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!(
                "{}: cannot start the async runtime: {e}",
                options.binary_name
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(provider, &options, debug)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("{}: {e:#}", options.binary_name);
            ExitCode::FAILURE
        }
    }
}

async fn run<P: Provider>(provider: P, options: &Options, debug: bool) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    if debug {
        let on_ctrl_c = shutdown.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            on_ctrl_c.cancel();
        });
    } else {
        ignore_interrupts()?;
    }

    let (listener, address) = Listener::bind().await?;
    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !debug && !pem.trim().is_empty() => {
            let identity = ServerIdentity::generate()?;
            let config = identity.server_config(&pem)?;
            Some((identity.cert_der, TlsAcceptor::from(Arc::new(config))))
        }
        _ => None,
    };

    if !handshake::client_offers_our_version(
        std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref(),
    ) {
        tracing::warn!("Terraform did not offer plugin protocol 6; it will report the mismatch");
    }
    let mut stdout = std::io::stdout().lock();
    if debug {
        let reattach =
            handshake::reattach_config(options.provider_address, &address, std::process::id());
        writeln!(
            stdout,
            "Provider started in debug mode. To attach Terraform, run in another shell:\n\n\
             \texport TF_REATTACH_PROVIDERS='{reattach}'\n\n\
             then run terraform in that shell. Stop the provider with Ctrl-C."
        )?;
    } else {
        let cert = tls.as_ref().map(|(der, _)| der.as_ref());
        writeln!(
            stdout,
            "{}",
            handshake::handshake_line(handshake::PLUGIN_PROTOCOL_VERSION, &address, cert)
        )?;
    }
    stdout.flush()?;
    drop(stdout);
    tracing::debug!(
        address = address.as_str(),
        network = address.network(),
        tls = tls.is_some(),
        "plugin listening"
    );

    let incoming = accept_loop(
        listener,
        tls.map(|(_, acceptor)| acceptor),
        shutdown.clone(),
    );
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let provider = pb::provider_server::ProviderServer::new(ProviderService::new(provider))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let server = tonic::transport::Server::builder()
        .add_service(provider)
        .add_service(health_service)
        .add_service(gp::grpc_controller_server::GrpcControllerServer::new(
            Controller(shutdown.clone()),
        ))
        .add_service(gp::grpc_stdio_server::GrpcStdioServer::new(Stdio(
            shutdown.clone(),
        )))
        .add_service(gp::grpc_broker_server::GrpcBrokerServer::new(Broker(
            shutdown.clone(),
        )))
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());

    // Graceful shutdown waits for clients to hang up, and Terraform keeps its
    // connection open until it kills us; bound the wait instead.
    let forced = async {
        shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    let result = tokio::select! {
        r = server => r.map_err(anyhow::Error::from),
        _ = forced => Ok(()),
    };
    if let Address::Unix(path) = &address {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Terraform forwards Ctrl-C to its whole process group and then stops
/// providers itself (StopProvider, then Shutdown). Dying on SIGINT would cut
/// an apply in the middle of a write, so the signal is only logged.
fn ignore_interrupts() -> std::io::Result<()> {
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    tokio::spawn(async move {
        while interrupts.recv().await.is_some() {
            tracing::debug!("ignoring SIGINT: Terraform stops the provider through the protocol");
        }
    });
    Ok(())
}

enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Listener {
    /// A unix socket (what go-plugin uses everywhere but Windows), in
    /// `PLUGIN_UNIX_SOCKET_DIR` or the temp dir; TCP on loopback within
    /// `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT` if that fails.
    async fn bind() -> anyhow::Result<(Listener, Address)> {
        let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let path = dir.join(format!("plugin{}", rand::random::<u64>()));
        match UnixListener::bind(&path) {
            Ok(l) => return Ok((Listener::Unix(l), Address::Unix(path.display().to_string()))),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "unix socket failed, using TCP")
            }
        }
        let port = |name: &str, default: u16| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<u16>().ok())
                .unwrap_or(default)
        };
        let (min, max) = (
            port("PLUGIN_MIN_PORT", 10000),
            port("PLUGIN_MAX_PORT", 25000),
        );
        for p in min..=max {
            if let Ok(l) = TcpListener::bind(("127.0.0.1", p)).await {
                let addr = l.local_addr()?;
                return Ok((Listener::Tcp(l), Address::Tcp(addr.to_string())));
            }
        }
        anyhow::bail!(
            "no free port on 127.0.0.1 between {min} and {max} (PLUGIN_MIN_PORT/PLUGIN_MAX_PORT)"
        )
    }

    async fn accept(&self) -> std::io::Result<Box<dyn Io>> {
        Ok(match self {
            Listener::Unix(l) => Box::new(l.accept().await?.0),
            Listener::Tcp(l) => {
                let (s, _) = l.accept().await?;
                s.set_nodelay(true)?;
                Box::new(s)
            }
        })
    }
}

/// Accepts connections and, with TLS, completes each handshake off the
/// accept path so one slow or hostile client cannot stall the others.
fn accept_loop(
    listener: Listener,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
) -> impl Stream<Item = std::io::Result<Conn>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let io = tokio::select! {
                _ = shutdown.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok(io) => io,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                },
            };
            let tx = tx.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let conn = match tls {
                    None => Conn(Box::pin(io)),
                    Some(acceptor) => {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(io)).await
                        {
                            Ok(Ok(stream)) => Conn(Box::pin(stream)),
                            Ok(Err(e)) => {
                                tracing::warn!(error = %e, "refused a connection: TLS handshake failed (a client must present Terraform's certificate)");
                                return;
                            }
                            Err(_) => {
                                tracing::warn!("refused a connection: TLS handshake timed out");
                                return;
                            }
                        }
                    }
                };
                let _ = tx.send(Ok(conn)).await;
            });
        }
    });
    ReceiverStream::new(rx)
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// A client connection, plain or TLS, over a unix socket or TCP.
struct Conn(Pin<Box<dyn Io>>);

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.0.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.0.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.0.as_mut().poll_shutdown(cx)
    }
}

/// `plugin.GRPCController`: Terraform's request for a clean exit.
struct Controller(CancellationToken);

#[tonic::async_trait]
impl gp::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<gp::Empty>) -> Result<Response<gp::Empty>, Status> {
        tracing::debug!("shutdown requested by Terraform");
        self.0.cancel();
        Ok(Response::new(gp::Empty {}))
    }
}

type Pending<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// A stream that stays open, sending nothing, until shutdown.
fn open_until<T: Send + 'static>(shutdown: CancellationToken) -> Pending<T> {
    Box::pin(futures::stream::once(async move {
        shutdown.cancelled_owned().await;
        Err(Status::unavailable("plugin shutting down"))
    }))
}

/// `plugin.GRPCStdio`: deputy never writes raw output to relay (logs go to
/// stderr as hclog JSON), so the stream stays open and empty.
struct Stdio(CancellationToken);

#[tonic::async_trait]
impl gp::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = Pending<gp::StdioData>;

    async fn stream_stdio(
        &self,
        _: Request<gp::Empty>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(open_until(self.0.clone())))
    }
}

/// `plugin.GRPCBroker`: for plugins that open extra connections back to
/// Terraform; deputy opens none, so it only keeps the stream open.
struct Broker(CancellationToken);

#[tonic::async_trait]
impl gp::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = Pending<gp::ConnInfo>;

    async fn start_stream(
        &self,
        _: Request<tonic::Streaming<gp::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        Ok(Response::new(open_until(self.0.clone())))
    }
}

//! TLS at the broker (`--tls-cert`/`--tls-key`): the certificate, reloaded
//! from its files on SIGHUP, and a listener that hands axum connections
//! whose handshake is done.
//!
//! Reloading swaps the certificate new handshakes get; connections already
//! open keep theirs, so a renewal (cert-manager, certbot) drops nothing. A
//! reload that fails (a half-written file, a key that does not match)
//! keeps the certificate in use and says why.
//!
//! Handshakes run in their own tasks with a deadline: one client that
//! opens a connection and never speaks must not hold up everyone else's.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A client has this long to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshaken connections waiting for axum to take them.
const ACCEPT_QUEUE: usize = 64;

/// The broker's certificate and key, and the files they come from.
#[derive(Debug)]
pub struct ServerCert {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ServerCert {
    /// Reads the PEM files; the message names the file at fault.
    pub fn load(cert_path: &Path, key_path: &Path) -> anyhow::Result<Arc<ServerCert>> {
        let current = read(cert_path, key_path)?;
        Ok(Arc::new(ServerCert {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            current: RwLock::new(current),
        }))
    }

    /// Reads the files again; on success new handshakes present the new
    /// certificate, on failure the old one stays.
    pub fn reload(&self) -> anyhow::Result<()> {
        let next = read(&self.cert_path, &self.key_path)?;
        *self.current.write().expect("certificate lock") = next;
        Ok(())
    }

    /// When the served certificate expires, in seconds since the Unix
    /// epoch (for `/metrics`, so an alert fires before it does).
    pub fn expires_at(&self) -> Option<i64> {
        let current = self.current.read().expect("certificate lock").clone();
        let leaf = current.cert.first()?;
        let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
        Some(parsed.validity().not_after.timestamp())
    }

    /// rustls settings serving this certificate over HTTP/1.1.
    pub fn server_config(self: &Arc<Self>) -> anyhow::Result<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for ServerCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().expect("certificate lock").clone())
    }
}

fn read(cert_path: &Path, key_path: &Path) -> anyhow::Result<Arc<CertifiedKey>> {
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            anyhow::anyhow!(
                "--tls-cert {}: cannot read PEM certificates: {e}",
                cert_path.display()
            )
        })?;
    if certs.is_empty() {
        anyhow::bail!(
            "--tls-cert {}: holds no certificate (expected PEM, the server's first, then its chain)",
            cert_path.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| {
        anyhow::anyhow!(
            "--tls-key {}: cannot read a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            key_path.display()
        )
    })?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified = CertifiedKey::from_der(certs, key, &provider).map_err(|e| {
        anyhow::anyhow!(
            "--tls-key {} does not go with --tls-cert {}: {e}",
            key_path.display(),
            cert_path.display()
        )
    })?;
    Ok(Arc::new(certified))
}

/// Accepts TCP connections and hands over those whose TLS handshake
/// succeeded. Dropping it (axum does, on shutdown) stops accepting.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: rustls::ServerConfig) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(ACCEPT_QUEUE);
        tokio::spawn(accept_loop(tcp, TlsAcceptor::from(Arc::new(config)), tx));
        Ok(TlsListener { local, ready })
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather
                    // than spin, as axum's own listener does.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = ready.closed() => return,
        };
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            // One deadline for the first bytes and the handshake both.
            let handshake = async {
                let stream = plain_http(stream).await?;
                match acceptor.accept(stream).await {
                    Ok(tls) => Some(tls),
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        None
                    }
                }
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                Ok(Some(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(None) => {}
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// What a client speaking plain HTTP to this port is told, instead of a
/// connection closed without a word.
const SPEAK_HTTPS: &str =
    "This port serves HTTPS: use an https:// URL (and DEPUTY_CA_FILE for a private CA)\n";

/// How much of a plain-HTTP request is read before it is answered.
const PLAIN_REQUEST_HEAD: usize = 8 * 1024;

/// The connection, if it starts as TLS does (a handshake record, byte
/// 0x16); a client that opens with plain HTTP gets [`SPEAK_HTTPS`] and
/// the connection is closed. Its request head is read first: closing a
/// socket with unread bytes makes the kernel reset the connection, which
/// can reach the client before the answer does.
async fn plain_http(mut stream: TcpStream) -> Option<TcpStream> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut first = [0u8; 1];
    match stream.peek(&mut first).await {
        Ok(1) if first[0] != 0x16 && first[0].is_ascii_uppercase() => {
            let mut head = Vec::new();
            let mut chunk = [0u8; 1024];
            while head.len() < PLAIN_REQUEST_HEAD && !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&chunk[..n]),
                }
            }
            let answer = format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
                 Connection: close\r\nContent-Length: {}\r\n\r\n{SPEAK_HTTPS}",
                SPEAK_HTTPS.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
            None
        }
        Ok(1) => Some(stream),
        _ => None,
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accept loop only ends once this receiver is gone.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

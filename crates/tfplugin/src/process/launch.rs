//! The client side of the plugin handshake: start a provider binary the way
//! Terraform does and open an AutoMTLS gRPC channel to it.
//!
//! Used to measure providers (deputy's and others', any protocol version)
//! from spawn to first answer, and by tests that need to talk to the plugin
//! with certificates Terraform would never present.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};

use super::handshake::Address;

/// A client certificate like the one Terraform makes per plugin start:
/// self-signed, a CA, ECDSA P-521 with SHA-512.
pub struct ClientIdentity {
    pub cert_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

impl ClientIdentity {
    pub fn generate() -> anyhow::Result<Self> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512)?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        let cert = params.self_signed(&key)?;
        Ok(ClientIdentity {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }
}

/// A running plugin and what its handshake said.
pub struct Plugin {
    pub child: Child,
    pub address: Address,
    pub protocol_version: u32,
    /// Server certificate DER from the handshake line (empty: no TLS).
    pub server_cert: Vec<u8>,
    /// From spawn to the handshake line being read.
    pub handshake_after: Duration,
    pub started: Instant,
}

impl Plugin {
    /// Spawns `binary` with Terraform's environment, presenting `identity`
    /// (or, when `None`, asking for no TLS), and reads the handshake line.
    pub async fn start(
        binary: &Path,
        protocol_versions: &str,
        identity: Option<&ClientIdentity>,
    ) -> anyhow::Result<Plugin> {
        let mut cmd = Command::new(binary);
        cmd.env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", protocol_versions)
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
        if let Some(id) = identity {
            cmd.env("PLUGIN_CLIENT_CERT", &id.cert_pem);
        }
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("plugin stdout")?;
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(30),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .context("no handshake line within 30 s")??;
        let handshake_after = started.elapsed();
        let fields: Vec<&str> = line.trim_end().split('|').collect();
        if fields.len() < 5 || fields[0] != "1" || fields[4] != "grpc" {
            bail!("not a go-plugin handshake line: {line:?}");
        }
        let address = match fields[2] {
            "unix" => Address::Unix(fields[3].to_string()),
            "tcp" => Address::Tcp(fields[3].to_string()),
            other => bail!("unknown network {other:?} in handshake"),
        };
        let server_cert = match fields.get(5) {
            Some(b64) if !b64.is_empty() => STANDARD_NO_PAD
                .decode(b64)
                .context("handshake certificate")?,
            _ => Vec::new(),
        };
        Ok(Plugin {
            child,
            address,
            protocol_version: fields[1].parse().context("protocol version")?,
            server_cert,
            handshake_after,
            started,
        })
    }

    /// A channel that trusts exactly the plugin's certificate and presents
    /// `identity` (which need not be the one announced at start).
    pub async fn connect(&self, identity: Option<&ClientIdentity>) -> anyhow::Result<Channel> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = PinnedServerCert {
            pinned: CertificateDer::from(self.server_cert.clone()),
            algorithms: provider.signature_verification_algorithms,
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier));
        let mut config = match identity {
            Some(id) => builder.with_client_auth_cert(
                vec![id.cert_der.clone()],
                PrivateKeyDer::Pkcs8(id.key_der.clone_key()),
            )?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        let connector = TlsConnector::from(Arc::new(config));
        let address = self.address.clone();
        let endpoint =
            Endpoint::try_from("http://localhost")?.connect_timeout(Duration::from_secs(10));
        let channel = endpoint
            .connect_with_connector(tower::service_fn(move |_| {
                let connector = connector.clone();
                let address = address.clone();
                async move {
                    let name = ServerName::try_from("localhost").expect("valid name");
                    let io: TokioIo<Box<dyn IoStream>> = match &address {
                        Address::Unix(path) => {
                            let s = tokio::net::UnixStream::connect(path).await?;
                            TokioIo::new(Box::new(connector.connect(name, s).await?))
                        }
                        Address::Tcp(addr) => {
                            let s = tokio::net::TcpStream::connect(addr).await?;
                            TokioIo::new(Box::new(connector.connect(name, s).await?))
                        }
                    };
                    Ok::<_, std::io::Error>(io)
                }
            }))
            .await?;
        Ok(channel)
    }

    /// Peak resident memory so far (Linux `VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.memory_kib("VmHWM")
    }

    /// Resident anonymous memory (heap, stacks; Linux `RssAnon`), in KiB:
    /// the part of RSS that is not pages of files such as the binary.
    pub fn anonymous_kib(&self) -> Option<u64> {
        self.memory_kib("RssAnon")
    }

    /// One KiB figure from `/proc/<pid>/status`.
    fn memory_kib(&self, field: &str) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> IoStream for T {}

/// Trusts exactly the certificate the plugin announced.
#[derive(Debug)]
struct PinnedServerCert {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

//! AutoMTLS, the way Terraform's plugin client (go-plugin) sets it up.
//!
//! Terraform generates a throwaway client certificate per plugin start and
//! passes it in `PLUGIN_CLIENT_CERT`; the plugin generates a throwaway server
//! certificate and prints it in the handshake line. Each side then trusts
//! exactly the other's certificate and nothing else.
//!
//! Two details make stock verifiers unusable here: Terraform's client
//! certificate is a self-signed *CA* certificate (webpki refuses a CA as an
//! end entity), and it is ECDSA P-521, which needs the aws-lc-rs provider.
//! So the client is checked by byte-for-byte pinning of its DER, and its
//! handshake signature with aws-lc-rs.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName as TlsName, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use time::{Duration, OffsetDateTime};

/// The certificate this plugin process serves with, and its key.
pub struct ServerIdentity {
    pub cert_der: CertificateDer<'static>,
    key_der: PrivateKeyDer<'static>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("could not generate the plugin's TLS certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error(
        "PLUGIN_CLIENT_CERT does not hold a PEM certificate ({0}); it is set by Terraform \
         and should not be set by hand"
    )]
    ClientCert(String),
    #[error("could not build the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

impl ServerIdentity {
    /// A fresh self-signed certificate for `localhost`, valid from a little
    /// in the past (clock skew between Terraform and the plugin is zero, but
    /// certificate time checks are strict) for the life of any plugin process.
    pub fn generate() -> Result<Self, TlsError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        let mut name = DistinguishedName::new();
        name.push(DnType::OrganizationName, "deputy plugin");
        name.push(DnType::CommonName, "localhost");
        params.distinguished_name = name;
        // go-plugin's client adds our certificate to its root pool and verifies
        // the chain against it, so it must be usable as its own CA.
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::seconds(30);
        params.not_after = now + Duration::days(365);
        let cert = params.self_signed(&key)?;
        Ok(ServerIdentity {
            cert_der: cert.der().clone(),
            key_der: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        })
    }

    /// The rustls server configuration: TLS 1.3 preferred (1.2 allowed, as
    /// go-plugin allows it), ALPN `h2` (grpc-go refuses a server without it),
    /// and the client pinned to `client_cert_pem`.
    pub fn server_config(&self, client_cert_pem: &str) -> Result<rustls::ServerConfig, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let pinned = CertificateDer::from_pem_slice(client_cert_pem.as_bytes())
            .map_err(|e| TlsError::ClientCert(e.to_string()))?;
        let verifier = PinnedClientCert {
            pinned,
            algorithms: provider.signature_verification_algorithms,
        };
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_client_cert_verifier(Arc::new(verifier))
            .with_single_cert(vec![self.cert_der.clone()], self.key_der.clone_key())?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(config)
    }
}

/// Accepts exactly one client certificate: the one Terraform announced.
#[derive(Debug)]
struct PinnedClientCert {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[TlsName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if intermediates.is_empty() && end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ClientCertVerified::assertion())
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

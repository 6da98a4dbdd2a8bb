//! The go-plugin handshake: how Terraform recognises a plugin, agrees on a
//! protocol version and learns where to connect.
//!
//! Terraform starts the plugin with a magic cookie in the environment, reads
//! exactly one line from its stdout, and from then on talks gRPC. Anything
//! else printed on stdout first would break that line, which is why nothing
//! in deputy's provider writes to stdout.

use std::env;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

/// go-plugin's own protocol version (the first field of the line).
const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only Terraform plugin protocol this provider speaks.
pub const PLUGIN_PROTOCOL_VERSION: u32 = 6;

const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// What the person who ran the binary by hand reads on stderr.
pub fn not_started_by_terraform_message(binary: &str) -> String {
    format!(
        "{binary} is a Terraform provider plugin: Terraform (or OpenTofu) starts it, and it is \
         not meant to be run directly.\n\n\
         To use it, add the provider to your configuration and run `terraform init`.\n\
         To debug it, run `{binary} --debug` and export the TF_REATTACH_PROVIDERS value it \
         prints before running terraform."
    )
}

/// True when the environment carries Terraform's magic cookie.
pub fn started_by_terraform() -> bool {
    env::var(MAGIC_COOKIE_KEY).is_ok_and(|v| v == MAGIC_COOKIE_VALUE)
}

/// Whether the client's `PLUGIN_PROTOCOL_VERSIONS` includes ours (absent
/// means the client did not say, which go-plugin treats as agreement).
///
/// The handshake always answers with our version: like go-plugin, when the
/// client offers nothing we speak we let Terraform report the mismatch in its
/// own words ("Incompatible API version with plugin"), which is clearer than
/// a plugin that dies during the handshake. The caller only logs it.
pub fn client_offers_our_version(offered: Option<&str>) -> bool {
    offered.is_none_or(|list| {
        list.split(',')
            .any(|v| v.trim().parse::<u32>() == Ok(PLUGIN_PROTOCOL_VERSION))
    })
}

/// Where the plugin listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Unix(String),
    Tcp(String),
}

impl Address {
    pub fn network(&self) -> &'static str {
        match self {
            Address::Unix(_) => "unix",
            Address::Tcp(_) => "tcp",
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Address::Unix(a) | Address::Tcp(a) => a,
        }
    }
}

/// `CORE|APP|NETWORK|ADDRESS|PROTOCOL|CERT`: the one line Terraform reads.
/// The certificate is the server certificate's DER in standard base64
/// without padding, empty when serving without TLS.
pub fn handshake_line(version: u32, address: &Address, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!(
        "{CORE_PROTOCOL_VERSION}|{version}|{}|{}|grpc|{cert}",
        address.network(),
        address.as_str()
    )
}

/// The `TF_REATTACH_PROVIDERS` value for a provider started in debug mode,
/// keyed by the provider's full source address.
pub fn reattach_config(provider_address: &str, address: &Address, pid: u32) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": PLUGIN_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": {"Network": address.network(), "String": address.as_str()},
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_line_format() {
        let unix = Address::Unix("/tmp/plugin123".into());
        assert_eq!(
            handshake_line(6, &unix, Some(&[0xde, 0xad, 0xbe, 0xef, 0x01])),
            "1|6|unix|/tmp/plugin123|grpc|3q2+7wE"
        );
        let tcp = Address::Tcp("127.0.0.1:10000".into());
        assert_eq!(
            handshake_line(6, &tcp, None),
            "1|6|tcp|127.0.0.1:10000|grpc|"
        );
    }

    #[test]
    fn version_negotiation() {
        assert!(client_offers_our_version(None));
        assert!(client_offers_our_version(Some("5,6")));
        assert!(!client_offers_our_version(Some("4,5")));
    }

    #[test]
    fn reattach_config_shape() {
        let v: serde_json::Value = serde_json::from_str(&reattach_config(
            "registry.terraform.io/deputy/deputy",
            &Address::Unix("/tmp/s".into()),
            42,
        ))
        .unwrap();
        let p = &v["registry.terraform.io/deputy/deputy"];
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Pid"], 42);
        assert_eq!(p["Addr"]["Network"], "unix");
    }
}

//! Random secrets and SHA-256 digests in hex, written once: API keys,
//! console sessions and `deputy exec`'s credential endpoint take their
//! secrets from [`random_secret`]; key hashes, configuration fingerprints,
//! ETags and shortened session names are [`sha256_hex`] or a prefix of it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes from the OS's generator, as base64url without padding:
/// 256 bits, so a fast hash of it is as good as a slow one.
pub fn random_secret() -> String {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    URL_SAFE_NO_PAD.encode(secret)
}

/// `bytes` random bytes in lowercase hex: public ids.
pub fn random_hex(bytes: usize) -> String {
    let mut id = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut id);
    hex(&id)
}

/// The SHA-256 of `text` in lowercase hex, cut to its first `bytes` bytes
/// (all 32 when `bytes` is larger).
pub fn sha256_hex(text: &str, bytes: usize) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex(&digest[..bytes.min(digest.len())])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_secrets_have_their_shape() {
        assert_eq!(
            sha256_hex("abc", 32),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_hex("abc", 4), "ba7816bf");
        assert_eq!(random_secret().len(), 43);
        assert_ne!(random_secret(), random_secret());
        assert_eq!(random_hex(8).len(), 16);
    }
}

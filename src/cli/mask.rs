//! Masking secrets in a child's output, as a stream of bytes: `deputy
//! exec` passes everything through unchanged (binary output included)
//! except the secrets it handed the child, which become `***`.
//!
//! A secret may arrive split across reads, so bytes that could be the start
//! of a secret are held back until the next read shows whether they are;
//! everything else is written at once, so a prompt without a newline
//! appears as soon as the child writes it. Secrets handed over later (a
//! renewal under `--refresh`) join the set while the stream runs, and each
//! secret is also masked in its URL-encoded form (a presigned URL carries
//! the session token that way).

use std::sync::{Arc, RwLock};

/// What replaces a secret.
const MASK: &[u8] = b"***";

/// Shorter values are not masked: they would garble ordinary output, and
/// every credential deputy hands over is far longer.
const SHORTEST: usize = 8;

/// The secrets to mask, shared by every stream and whoever hands out new
/// ones.
#[derive(Clone, Default)]
pub struct Secrets(Arc<RwLock<Vec<Vec<u8>>>>);

impl Secrets {
    /// Adds `secret` and its URL-encoded form.
    pub fn add(&self, secret: &str) {
        if secret.len() < SHORTEST {
            return;
        }
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let mut list = self.0.write().expect("secrets lock");
        for form in [secret.to_string(), encoded] {
            if !list.iter().any(|s| s == form.as_bytes()) {
                list.push(form.into_bytes());
            }
        }
    }

    fn snapshot(&self) -> Vec<Vec<u8>> {
        self.0.read().expect("secrets lock").clone()
    }
}

/// One output stream's masking state.
pub struct Masker {
    secrets: Secrets,
    /// Bytes that may begin a secret, held until the next read.
    held: Vec<u8>,
}

impl Masker {
    pub fn new(secrets: Secrets) -> Masker {
        Masker {
            secrets,
            held: Vec::new(),
        }
    }

    /// Takes the next bytes the child wrote; returns what can be shown now.
    pub fn push(&mut self, data: &[u8]) -> Vec<u8> {
        self.held.extend_from_slice(data);
        let secrets = self.secrets.snapshot();
        let buf = std::mem::take(&mut self.held);
        let mut out = Vec::with_capacity(buf.len());
        let mut start = 0;
        let mut at = 0;
        while at < buf.len() {
            match longest_match(&secrets, &buf[at..]) {
                Some(len) => {
                    out.extend_from_slice(&buf[start..at]);
                    out.extend_from_slice(MASK);
                    at += len;
                    start = at;
                }
                None => at += 1,
            }
        }
        // Keep back the shortest tail that could still grow into a secret.
        let keep = (start..buf.len())
            .find(|&k| {
                secrets
                    .iter()
                    .any(|s| s.len() > buf.len() - k && s.starts_with(&buf[k..]))
            })
            .unwrap_or(buf.len());
        out.extend_from_slice(&buf[start..keep]);
        self.held = buf[keep..].to_vec();
        out
    }

    /// The stream ended: what was held back is no secret.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.held)
    }
}

/// The length of the longest secret that `text` starts with.
fn longest_match(secrets: &[Vec<u8>], text: &[u8]) -> Option<usize> {
    secrets
        .iter()
        .filter(|s| text.starts_with(s))
        .map(Vec::len)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn masker() -> (Secrets, Masker) {
        let secrets = Secrets::default();
        secrets.add(SECRET);
        (secrets.clone(), Masker::new(secrets))
    }

    fn run(m: &mut Masker, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out: Vec<u8> = chunks.iter().flat_map(|c| m.push(c)).collect();
        out.extend(m.finish());
        out
    }

    #[test]
    fn a_secret_split_at_every_offset_is_masked() {
        let text = format!("key={SECRET}\n");
        for cut in 0..=text.len() {
            let (_, mut m) = masker();
            let (a, b) = text.as_bytes().split_at(cut);
            assert_eq!(run(&mut m, &[a, b]), b"key=***\n", "cut at {cut}");
        }
    }

    #[test]
    fn binary_without_secrets_passes_byte_exact() {
        let data: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let (_, mut m) = masker();
        let chunks: Vec<&[u8]> = data.chunks(97).collect();
        assert_eq!(run(&mut m, &chunks), data);
    }

    #[test]
    fn a_prompt_without_newline_is_shown_at_once() {
        let (_, mut m) = masker();
        assert_eq!(m.push(b"Enter a value: "), b"Enter a value: ");
        // Only what could begin the secret waits for the next read.
        assert_eq!(m.push(b"say wJal"), b"say ");
        assert_eq!(m.push(b"l done"), b"wJall done");
    }

    #[test]
    fn renewed_and_url_encoded_secrets_are_masked() {
        let (secrets, mut m) = masker();
        let encoded: String = url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
        assert_eq!(
            m.push(format!("?sig={encoded}&x").as_bytes()),
            b"?sig=***&x"
        );
        secrets.add("renewed-secret-value");
        assert_eq!(run(&mut m, &[b"new: renewed-secret-value."]), b"new: ***.");
    }
}

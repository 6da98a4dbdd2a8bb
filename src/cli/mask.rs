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

use aho_corasick::{AhoCorasick, MatchKind};

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

    /// The secrets, if there are more than the `known` already seen.
    fn newer_than(&self, known: usize) -> Option<Vec<Vec<u8>>> {
        let list = self.0.read().expect("secrets lock");
        (list.len() != known).then(|| list.clone())
    }
}

/// The secrets of the moment, compiled for searching: an Aho-Corasick
/// automaton finds every secret in one pass over the bytes (SIMD-assisted),
/// where comparing each secret at each offset cost ~20 ns a byte.
struct Matcher {
    secrets: Vec<Vec<u8>>,
    automaton: AhoCorasick,
    longest: usize,
}

/// One output stream's masking state.
pub struct Masker {
    secrets: Secrets,
    matcher: Option<Matcher>,
    /// Bytes that may begin a secret, held until the next read.
    held: Vec<u8>,
}

impl Masker {
    pub fn new(secrets: Secrets) -> Masker {
        Masker {
            secrets,
            matcher: None,
            held: Vec::new(),
        }
    }

    /// Rebuilds the matcher when secrets were added since it was built
    /// (secrets are never removed, so their count tells).
    fn refresh(&mut self) {
        let known = self.matcher.as_ref().map_or(0, |m| m.secrets.len());
        if let Some(secrets) = self.secrets.newer_than(known) {
            let automaton = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&secrets)
                .expect("a handful of short literal patterns always compile");
            self.matcher = Some(Matcher {
                longest: secrets.iter().map(Vec::len).max().unwrap_or(0),
                secrets,
                automaton,
            });
        }
    }

    /// Takes the next bytes the child wrote; returns what can be shown now.
    pub fn push(&mut self, data: &[u8]) -> Vec<u8> {
        self.refresh();
        let Some(m) = &self.matcher else {
            return data.to_vec();
        };
        self.held.extend_from_slice(data);
        let buf = std::mem::take(&mut self.held);
        let mut out = Vec::with_capacity(buf.len());
        let mut start = 0;
        // Leftmost, and the longest secret there: a secret never overlaps
        // the mask of one found before it.
        for found in m.automaton.find_iter(&buf) {
            out.extend_from_slice(&buf[start..found.start()]);
            out.extend_from_slice(MASK);
            start = found.end();
        }
        // Keep back the shortest tail that could still grow into a secret:
        // only the last `longest - 1` bytes can.
        let from = start.max(buf.len().saturating_sub(m.longest.saturating_sub(1)));
        let keep = (from..buf.len())
            .find(|&k| {
                m.secrets
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

//! What the broker reads from an ID token before checking its signature
//! (`model::id_token::read`), and the runner-trust patterns it then
//! matches claims against (`model::runner_trust`).
//!
//! Input layout: the first byte picks the case, the rest splits at the
//! first two `\n` into up to three parts.
//! - `0`: the whole rest is the token.
//! - `1`: a token built as base64url(part 1) `.` base64url(part 2) `.sig`,
//!   so the fuzzer reaches the header and claim JSON.
//! - anything else: part 1 is a pattern, part 2 a value; `matches` must
//!   agree with a plain dynamic-programming glob matcher, and `mismatch`
//!   over claims from part 3 (JSON) must not panic.

#![no_main]

use base64::Engine;
use deputy_fuzz::model::id_token::{self, ALLOWED, MAX_ISSUER_BYTES, MAX_KID_BYTES};
use deputy_fuzz::model::runner_trust::{matches, mismatch};
use libfuzzer_sys::fuzz_target;

fn read(token: &str) {
    match id_token::read(token) {
        Ok(t) => {
            assert!(ALLOWED.contains(&t.alg));
            assert!(t.kid.as_ref().is_none_or(|k| k.len() <= MAX_KID_BYTES));
            assert!(!t.issuer.is_empty() && t.issuer.len() <= MAX_ISSUER_BYTES);
        }
        // Refusals are what the caller is told and the audit trail keeps:
        // short, whatever the token.
        Err(e) => assert!(e.0.len() <= 1200, "{} bytes", e.0.len()),
    }
}

/// `*` matches any run of characters: the textbook table, as an oracle.
fn glob(pattern: &[char], value: &[char]) -> bool {
    let mut row = vec![false; value.len() + 1];
    row[0] = true;
    for &p in pattern {
        let mut next = vec![false; value.len() + 1];
        if p == '*' {
            let mut any = false;
            for j in 0..=value.len() {
                any |= row[j];
                next[j] = any;
            }
        } else {
            for j in 1..=value.len() {
                next[j] = row[j - 1] && value[j - 1] == p;
            }
        }
        row = next;
    }
    row[value.len()]
}

fuzz_target!(|data: &[u8]| {
    let Some((&case, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let (one, two, three) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    match case {
        0 => read(text),
        1 => {
            let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            read(&format!("{}.{}.c2ln", b64(one), b64(two)));
        }
        _ => {
            // Bounded as trusts are (256 characters), so the oracle's table
            // stays small.
            if one.len() > 256 || two.len() > 256 {
                return;
            }
            let (p, v): (Vec<char>, Vec<char>) = (one.chars().collect(), two.chars().collect());
            assert_eq!(matches(one, two), glob(&p, &v), "{one:?} against {two:?}");
            if let Ok(serde_json::Value::Object(claims)) = serde_json::from_str(three) {
                let rules = claims
                    .keys()
                    .map(|k| (k.clone(), one.to_string()))
                    .collect();
                let _ = mismatch(one, &rules, &claims);
            }
        }
    }
});

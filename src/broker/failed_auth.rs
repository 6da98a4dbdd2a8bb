//! Failed authentications, counted rather than written one by one.
//!
//! Anyone who can reach the broker can present a forged key or token. If
//! each failure were an audit row of its own, an unauthenticated caller
//! could grow the store at will and make every vend wait behind its
//! writes. So failures are counted per (source address, key id, reason)
//! within a window of [`WINDOW`]:
//!
//! - the first failure of a kind in a window becomes an audit row at once,
//!   so the use of a leaked or revoked key shows up immediately;
//! - the others of that kind become one row when the window closes, with
//!   their count, the first one's time (`at`) and the last one's
//!   (`last_at`);
//! - at most [`KINDS_PER_WINDOW`] kinds get rows of their own in a window;
//!   failures beyond them are counted together in one row, so a caller
//!   varying its source, key id or token cannot buy more rows.
//!
//! A window therefore costs at most `2 × KINDS_PER_WINDOW + 1` rows however
//! many failures it sees, and each row's text is bounded (reasons are cut
//! to [`REASON_CHARS`] characters with control characters replaced). The
//! counts of an open window live in memory: a crash loses at most one
//! window's repeats, never a kind's first row.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::model::outsider::bounded;
use crate::model::timestamp::now;
use crate::wire::AuditEvent;

/// How long failures of one kind are counted before their row is written.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Kinds of failure that get rows of their own in one window.
pub const KINDS_PER_WINDOW: usize = 64;
/// The longest reason stored, in characters.
pub const REASON_CHARS: usize = 300;

/// One failed authentication, as the caller's request showed it.
pub struct Failure<'a> {
    /// The peer address.
    pub source: &'a str,
    /// The key id the presented key named, if it had a key id's shape.
    pub key_id: Option<&'a str>,
    /// What was presented: `API key` or `ID token`.
    pub kind: &'static str,
    /// Why it was refused (may hold text from the token: bounded here).
    pub reason: &'a str,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Kind {
    presented: &'static str,
    source: String,
    key_id: Option<String>,
    reason: String,
}

/// The repeats of one kind since its first row.
struct Repeats {
    first_at: String,
    last_at: String,
    count: u64,
}

#[derive(Default)]
struct Window {
    /// Kinds with a row of their own, and their repeats so far.
    kinds: HashMap<Kind, Option<Repeats>>,
    /// Failures of kinds beyond [`KINDS_PER_WINDOW`].
    overflow: Option<Repeats>,
}

/// The open window's counts.
#[derive(Default)]
pub struct FailedAuth {
    window: Mutex<Window>,
}

impl FailedAuth {
    /// Counts `failure`. The first of its kind in the window comes back as
    /// the row to write now; the others are written when it closes.
    pub fn record(&self, failure: &Failure<'_>) -> Option<AuditEvent> {
        let kind = Kind {
            presented: failure.kind,
            source: bounded(failure.source, 64),
            key_id: failure.key_id.map(|id| bounded(id, 64)),
            reason: bounded(failure.reason, REASON_CHARS),
        };
        let at = now();
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let full = window.kinds.len() >= KINDS_PER_WINDOW;
        match window.kinds.get_mut(&kind) {
            Some(repeats) => {
                count(repeats, at);
                None
            }
            None if full => {
                count(&mut window.overflow, at);
                None
            }
            None => {
                let event = row(&kind, at, None);
                window.kinds.insert(kind, None);
                Some(event)
            }
        }
    }

    /// Closes the window: the rows for repeats counted in it (none for a
    /// kind seen once), and a fresh window.
    pub fn close_window(&self) -> Vec<AuditEvent> {
        let closed = std::mem::take(&mut *self.window.lock().unwrap_or_else(|e| e.into_inner()));
        let mut rows: Vec<AuditEvent> = closed
            .kinds
            .into_iter()
            .filter_map(|(kind, repeats)| repeats.map(|r| row(&kind, r.first_at.clone(), Some(&r))))
            .collect();
        if let Some(r) = closed.overflow {
            let kind = Kind {
                presented: "API key or ID token",
                source: "many".into(),
                key_id: None,
                reason: format!(
                    "failed authentications beyond the {KINDS_PER_WINDOW} kinds (source, key id, \
                     reason) counted apart in one window"
                ),
            };
            rows.push(row(&kind, r.first_at.clone(), Some(&r)));
        }
        rows.sort_by(|a, b| a.at.cmp(&b.at));
        rows
    }
}

fn count(repeats: &mut Option<Repeats>, at: String) {
    match repeats {
        Some(r) => {
            r.count += 1;
            r.last_at = at;
        }
        None => {
            *repeats = Some(Repeats {
                first_at: at.clone(),
                last_at: at,
                count: 1,
            })
        }
    }
}

fn row(kind: &Kind, at: String, repeats: Option<&Repeats>) -> AuditEvent {
    let target = kind
        .key_id
        .as_deref()
        .map_or_else(|| "token".to_string(), |id| format!("key/{id}"));
    let detail = match repeats {
        None => format!(
            "failed authentication with an {}: {}",
            kind.presented, kind.reason
        ),
        Some(r) => format!(
            "{} more failed authentications with an {} in this window: {}",
            r.count, kind.presented, kind.reason
        ),
    };
    AuditEvent {
        at,
        outcome: "unauthenticated".into(),
        detail,
        source: Some(kind.source.clone()),
        count: repeats.map_or(1, |r| r.count),
        last_at: repeats.map(|r| r.last_at.clone()),
        ..AuditEvent::new(
            kind.key_id.as_deref(),
            crate::model::audit::AUTH_FAILED,
            &target,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure<'a>(source: &'a str, reason: &'a str) -> Failure<'a> {
        Failure {
            source,
            key_id: None,
            kind: "ID token",
            reason,
        }
    }

    #[test]
    fn a_kind_gets_one_row_at_once_and_one_for_its_repeats() {
        let f = FailedAuth::default();
        assert!(f.record(&failure("10.0.0.1", "expired")).is_some());
        for _ in 0..999 {
            assert!(f.record(&failure("10.0.0.1", "expired")).is_none());
        }
        let rows = f.close_window();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].count, 999);
        assert_eq!(rows[0].source.as_deref(), Some("10.0.0.1"));
        assert!(rows[0].last_at.is_some());
        // A new window starts afresh.
        assert!(f.record(&failure("10.0.0.1", "expired")).is_some());
        assert!(f.close_window().is_empty());
    }

    #[test]
    fn kinds_beyond_the_limit_share_one_row() {
        let f = FailedAuth::default();
        let mut first = 0;
        for n in 0..10_000 {
            let reason = format!("reason {n}");
            if f.record(&failure("10.0.0.1", &reason)).is_some() {
                first += 1;
            }
        }
        assert_eq!(first, KINDS_PER_WINDOW);
        let rows = f.close_window();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].count, 10_000 - KINDS_PER_WINDOW as u64);
        assert_eq!(rows[0].source.as_deref(), Some("many"));
    }

    #[test]
    fn reasons_are_bounded_and_made_printable() {
        let f = FailedAuth::default();
        let huge = format!("\u{1b}]0;owned\u{7}{}", "k".repeat(50_000));
        let row = f
            .record(&failure("10.0.0.1", &huge))
            .expect("first of its kind");
        assert!(
            row.detail.chars().count() < REASON_CHARS + 60,
            "{}",
            row.detail.len()
        );
        assert!(!row.detail.chars().any(char::is_control));
    }
}

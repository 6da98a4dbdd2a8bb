//! Phases of a run. A stack's plan only reads, its apply writes, and each
//! phase gets its own External ID so a customer can trust a read-only role
//! for plans and a separate, stronger role for applies.

use std::fmt;
use std::str::FromStr;

use super::Invalid;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Read,
    Write,
}

impl Phase {
    pub const ALL: [Phase; 2] = [Phase::Read, Phase::Write];

    /// The phases an attachment's (or a request's) `read` and `write`
    /// flags turn on, in `ALL`'s order.
    pub fn from_flags(read: bool, write: bool) -> Vec<Phase> {
        Phase::ALL
            .into_iter()
            .filter(|p| match p {
                Phase::Read => read,
                Phase::Write => write,
            })
            .collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Read => "read",
            Phase::Write => "write",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Phase {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "read" => Ok(Phase::Read),
            "write" => Ok(Phase::Write),
            other => Err(Invalid::new(format!(
                "{other:?} is not a phase: use \"read\" (plans) or \"write\" (applies)"
            ))),
        }
    }
}

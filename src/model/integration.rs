//! The rules of an AWS integration's settings: how long its sessions last,
//! where STS is called, when a custom External ID is allowed, and which
//! actions its trust policy must grant. The broker enforces them at apply
//! and the provider at plan, through these same functions, so both refuse
//! the same values with the same words.

use std::str::FromStr;

use super::{ExternalId, Invalid};

/// A vended session's lifetime in seconds: STS accepts 900 (15 minutes) to
/// 43200 (12 hours). The role's own MaxSessionDuration may be lower, which
/// only AWS knows; verification probes with the real duration to find out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionDuration(u32);

impl SessionDuration {
    pub const MIN: i64 = 900;
    pub const MAX: i64 = 43200;
    /// One hour: long enough for most plans and applies, and the most a
    /// broker running on role credentials can vend anyway (role chaining).
    pub const DEFAULT: SessionDuration = SessionDuration(3600);

    pub fn new(seconds: i64) -> Result<Self, Invalid> {
        if !(Self::MIN..=Self::MAX).contains(&seconds) {
            return Err(Invalid::new(format!(
                "Session duration must be between 15 minutes and 12 hours ({} to {} seconds, \
                 as STS accepts); {seconds} is outside that range",
                Self::MIN,
                Self::MAX
            )));
        }
        Ok(SessionDuration(seconds as u32))
    }

    pub fn seconds(self) -> i64 {
        i64::from(self.0)
    }
}

/// An AWS region name such as `eu-west-1` or `us-gov-west-1`: STS is called
/// in it. Checked for shape only (AWS adds regions), lowercase because STS
/// endpoints are.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

impl Region {
    pub const DEFAULT: &'static str = "us-east-1";
}

text_newtype!(Region);

impl Default for Region {
    fn default() -> Self {
        Region(Self::DEFAULT.to_string())
    }
}

impl FromStr for Region {
    type Err = Invalid;

    /// `<2 letters>(-<letters>)+-<digits>`.
    fn from_str(s: &str) -> Result<Self, Invalid> {
        let parts: Vec<&str> = s.split('-').collect();
        let letters = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
        let ok = parts.len() >= 3
            && parts[0].len() == 2
            && letters(parts[0])
            && parts[1..parts.len() - 1].iter().all(|p| letters(p))
            && parts
                .last()
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(Invalid::new(format!(
                "{s:?} is not an AWS region name: use the lowercase code, for example \"eu-west-1\" \
                 or \"us-gov-west-1\""
            )));
        }
        Ok(Region(s.to_string()))
    }
}

/// What a role's trust policy accepts, declared on the integration and
/// checked by verification.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustScope {
    /// Exact External IDs, one per attached stack and phase: the role
    /// itself names every stack, so its policy grows with each one.
    #[default]
    Stack,
    /// `StringLike` patterns, one per phase, fixing the account and the
    /// integration: the same size for any number of stacks, and which
    /// stacks may use the role is decided by deputy's attachments alone.
    Integration,
}

impl TrustScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TrustScope::Stack => "stack",
            TrustScope::Integration => "integration",
        }
    }
}

impl std::fmt::Display for TrustScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TrustScope {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "stack" => Ok(TrustScope::Stack),
            "integration" => Ok(TrustScope::Integration),
            other => Err(Invalid::new(format!(
                "trust_scope is {other:?}: use \"stack\" (exact External IDs, one per stack and \
                 phase) or \"integration\" (one pattern per phase, for roles shared by many stacks)"
            ))),
        }
    }
}

/// A custom External ID is already one value for every stack: there is no
/// per-stack ID for an integration-wide pattern to stand in for.
pub fn check_trust_scope(scope: TrustScope, custom_external_id: bool) -> Result<(), Invalid> {
    if scope == TrustScope::Integration && custom_external_id {
        return Err(Invalid::new(
            "trust_scope = \"integration\" needs deputy's derived External IDs, and this integration \
             sets a custom external_id (one value for every stack already): remove external_id, or \
             use trust_scope = \"stack\"",
        ));
    }
    Ok(())
}

/// A custom External ID is the worker's business: in broker mode deputy
/// derives one per stack and phase, and a single shared value would let any
/// stack attached to the integration act as any other. It may not contain
/// `@`: every derived External ID does, so no custom one can be, or match
/// a pattern written for, another integration's derived IDs (the broker
/// also keeps custom IDs unique).
pub fn custom_external_id(worker_mode: bool, custom: &str) -> Result<ExternalId, Invalid> {
    if !worker_mode {
        return Err(Invalid::new(
            "a custom external_id is only used with generate_credentials_in_worker = true; in broker \
             mode deputy derives one External ID per stack and phase: remove external_id or enable \
             worker mode",
        ));
    }
    if custom.contains('@') {
        return Err(Invalid::new(format!(
            "custom external_id {custom:?} contains \"@\", the separator of the External IDs deputy \
             derives (account@integration@stack@phase): a custom one could then be another \
             integration's, or match a pattern written for it. Use letters, digits and _+=,.:/-"
        )));
    }
    custom.parse()
}

/// Most managed policies one AssumeRole call may pass as session policies
/// (STS's limit for `PolicyArns`).
pub const MAX_SESSION_POLICIES: usize = 10;

/// A phase's session policies: managed policy ARNs passed as `PolicyArns`
/// on every AssumeRole for that phase, so its sessions get the
/// intersection of the role's permissions and theirs (a plan's session
/// with `ReadOnlyAccess` cannot write, whatever the role allows).
pub fn check_session_policy_arns(arns: &[String]) -> Result<(), Invalid> {
    if arns.len() > MAX_SESSION_POLICIES {
        return Err(Invalid::new(format!(
            "{} session policies; STS accepts at most {MAX_SESSION_POLICIES} per session",
            arns.len()
        )));
    }
    for (i, arn) in arns.iter().enumerate() {
        super::role_template::check_managed_policy_arn(arn)?;
        if arns[..i].contains(arn) {
            return Err(Invalid::new(format!("{arn:?} is listed twice")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert!(SessionDuration::new(900).is_ok());
        assert!(SessionDuration::new(43200).is_ok());
        for bad in [0, 899, 43201, -1] {
            let e = SessionDuration::new(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("; {bad} is outside")), "{e}");
            assert!(
                e.contains("between 15 minutes and 12 hours (900 to 43200"),
                "{e}"
            );
        }
    }

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "eu-west-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "cn-north-1",
        ] {
            assert!(ok.parse::<Region>().is_ok(), "{ok}");
        }
        for bad in [
            "EU-WEST-1",
            "eu-west",
            "euwest1",
            "",
            "eu--1",
            "e-west-1",
            "eu-west-1a",
        ] {
            let e = bad.parse::<Region>().unwrap_err().to_string();
            assert!(e.contains("is not an AWS region name"), "{bad}: {e}");
        }
    }

    #[test]
    fn trust_scopes() {
        assert_eq!("stack".parse(), Ok(TrustScope::Stack));
        assert_eq!("integration".parse(), Ok(TrustScope::Integration));
        let e = "Stack".parse::<TrustScope>().unwrap_err().to_string();
        assert!(e.contains("trust_scope is \"Stack\""), "{e}");
        assert!(check_trust_scope(TrustScope::Integration, false).is_ok());
        assert!(check_trust_scope(TrustScope::Stack, true).is_ok());
        let e = check_trust_scope(TrustScope::Integration, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("remove external_id"), "{e}");
    }

    #[test]
    fn custom_ids_need_worker_mode() {
        let e = custom_external_id(false, "abc").unwrap_err().to_string();
        assert!(
            e.contains("only used with generate_credentials_in_worker = true"),
            "{e}"
        );
        assert!(custom_external_id(true, "abc").is_ok());
        assert!(custom_external_id(true, "a b").is_err());
        let shaped = custom_external_id(true, "acme@01J@net@read").unwrap_err();
        assert!(shaped.to_string().contains("separator"), "{shaped}");
        assert!(custom_external_id(true, "acme@x").is_err());
    }

    #[test]
    fn session_policies_are_managed_policy_arns_at_most_ten_and_unique() {
        let arn = |n: usize| format!("arn:aws:iam::123456789012:policy/p{n}");
        assert!(check_session_policy_arns(&[]).is_ok());
        assert!(
            check_session_policy_arns(&["arn:aws:iam::aws:policy/ReadOnlyAccess".into()]).is_ok()
        );
        assert!(check_session_policy_arns(&(0..10).map(arn).collect::<Vec<_>>()).is_ok());
        let e = check_session_policy_arns(&(0..11).map(arn).collect::<Vec<_>>()).unwrap_err();
        assert!(e.0.contains("at most 10"), "{e}");
        assert!(
            check_session_policy_arns(&[arn(1), arn(1)])
                .unwrap_err()
                .0
                .contains("twice")
        );
        assert!(check_session_policy_arns(&["arn:aws:iam::123456789012:role/x".into()]).is_err());
    }
}

//! What verification must prove, as pure rules: the configuration a vend
//! would use, the probes that prove a role is usable by deputy for a stack
//! and phase and by nobody else through deputy, and how to read their
//! outcomes. The STS calls themselves are in `sts::verify`; the states and
//! when each runs are in `broker::verification`.
//!
//! The probes, per role (not per stack) where they can be:
//! 1. [`Probe::Confirm`] each phase's External ID, with the vend's real
//!    duration and session tags: must work (a new role answers
//!    AccessDenied for a while, so only this probe is retried).
//! 2. [`Probe::NoExternalId`]: must be denied. STS accepts an External ID
//!    even when the policy asks for none, so only a call without one proves
//!    the condition is there.
//! 3. [`Probe::OtherIntegration`] (the External ID of an integration that
//!    does not exist) and [`Probe::Random`]: must be denied. This proves the
//!    condition is specific, not `"*"` or `"<account>@*"`: otherwise anyone
//!    who can register an integration naming this role could use it.
//! 4. [`Probe::UnattachedStack`] (this integration, a stack that is not
//!    attached): denied means the role trusts exact stacks (stack scope);
//!    allowed means it trusts the whole integration. The result must match
//!    the integration's declared `trust_scope`.
//! 5. In integration scope, [`Probe::OtherPhase`] (this integration, a
//!    phase that does not exist): must be denied, proving the patterns fix
//!    the phase (`...@*@read`, not `...@*`).

use sha2::{Digest, Sha256};

use super::integration::TrustScope;
use super::{AccountName, ExternalId, IntegrationId, Phase, RoleArn, StackId};

/// Everything about an integration that changes what a vend sends to STS.
/// Two vends with the same configuration make the same AssumeRole call
/// (but for the session name), so a verification of it holds for both.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct VendConfig {
    pub role_arn: String,
    pub region: String,
    pub duration_seconds: i64,
    pub worker_mode: bool,
    pub custom_external_id: Option<String>,
    pub tag_session: bool,
    pub set_source_identity: bool,
    pub trust_scope: TrustScope,
    /// Left out of the digest when empty, so configurations verified before
    /// session policies existed keep their fingerprint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_session_policy_arns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub write_session_policy_arns: Vec<String>,
}

impl VendConfig {
    /// A stable digest: recorded when a verification passes, compared on
    /// every vend. Any change to a field above changes it, so a vend never
    /// runs on a configuration that was not the one verified.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::to_string(self).expect("configuration serializes");
        let digest = Sha256::digest(canonical.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("v1:{hex}")
    }
}

/// The session tags a vend passes when the integration tags sessions, and
/// verification passes the same so it proves what vends will need.
pub fn session_tags(
    account: &AccountName,
    stack: &StackId,
    phase: Phase,
    run_id: &str,
) -> Vec<(String, String)> {
    vec![
        ("deputy:stack".into(), stack.to_string()),
        ("deputy:run".into(), run_id.to_string()),
        ("deputy:phase".into(), phase.to_string()),
        ("deputy:account".into(), account.to_string()),
    ]
}

/// One AssumeRole call verification makes, and what a safe role answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// An attached stack's phase: must be allowed.
    Confirm {
        stack: StackId,
        phase: Phase,
        external_id: ExternalId,
    },
    /// No External ID at all: must be denied.
    NoExternalId,
    /// The External ID of an integration that does not exist: must be denied.
    OtherIntegration(ExternalId),
    /// An External ID of no deputy shape: must be denied.
    Random(ExternalId),
    /// This integration, a stack that is not attached: tells the scope.
    UnattachedStack(ExternalId),
    /// This integration, a phase that does not exist: must be denied.
    OtherPhase(ExternalId),
}

impl Probe {
    /// The report's step name for confirming `stack`'s `phase`.
    pub fn confirm_name(stack: &StackId, phase: Phase) -> String {
        format!("confirm:{stack}:{phase}")
    }

    /// The step name in reports.
    pub fn name(&self) -> String {
        match self {
            Probe::Confirm { stack, phase, .. } => Probe::confirm_name(stack, *phase),
            Probe::NoExternalId => "deny_without_external_id".into(),
            Probe::OtherIntegration(_) => "deny_other_integration".into(),
            Probe::Random(_) => "deny_random_external_id".into(),
            Probe::UnattachedStack(_) => "scope_unattached_stack".into(),
            Probe::OtherPhase(_) => "deny_other_phase".into(),
        }
    }

    pub fn external_id(&self) -> Option<&ExternalId> {
        match self {
            Probe::Confirm { external_id, .. } => Some(external_id),
            Probe::NoExternalId => None,
            Probe::OtherIntegration(id)
            | Probe::Random(id)
            | Probe::UnattachedStack(id)
            | Probe::OtherPhase(id) => Some(id),
        }
    }
}

/// Every probe for verifying `integration` for `targets` (stacks and the
/// phases to confirm for each): the confirmations, then the role-level
/// probes. The broker and a worker (`deputy verify --as-worker`) build the
/// same plan, each running it with its own identity.
pub fn plan(
    account: &AccountName,
    integration: &IntegrationId,
    custom: Option<&ExternalId>,
    scope: TrustScope,
    targets: &[(StackId, Vec<Phase>)],
    nonce: &str,
) -> Vec<Probe> {
    let mut probes: Vec<Probe> = targets
        .iter()
        .flat_map(|(stack, phases)| {
            phases.iter().map(move |phase| Probe::Confirm {
                stack: stack.clone(),
                phase: *phase,
                external_id: ExternalId::for_phase(account, integration, custom, stack, *phase),
            })
        })
        .collect();
    let first = targets.first();
    probes.extend(negative_probes(
        account,
        integration,
        first.map(|(stack, _)| stack),
        Scoped {
            custom_id: custom.is_some(),
            scope,
            phase: first
                .and_then(|(_, phases)| phases.first().copied())
                .unwrap_or(Phase::Read),
        },
        nonce,
    ));
    probes
}

/// What the role-level probes depend on besides the ids.
#[derive(Clone, Copy, Debug)]
pub struct Scoped {
    /// A custom External ID (worker mode) is one value for every stack:
    /// there is no per-stack scope to probe.
    pub custom_id: bool,
    pub scope: TrustScope,
    /// A phase the role is used for: an integration-scoped role may trust
    /// only the phases its attachments use, so the scope probe uses one.
    pub phase: Phase,
}

/// The negative probes for one role: four calls, whatever the number of
/// stacks. `nonce` makes the probe ids unguessable and unique per run, so
/// no trust policy can list them by accident. `attached` is a stack the
/// role is confirmed for, when there is one: another integration's
/// External ID for that very stack is what a pattern like `*@<stack>@*`
/// would let through.
pub fn negative_probes(
    account: &AccountName,
    integration: &IntegrationId,
    attached: Option<&StackId>,
    scoped: Scoped,
    nonce: &str,
) -> Vec<Probe> {
    let nonce: String = nonce
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(20)
        .collect();
    let probe_stack: StackId = format!("deputy-probe-{nonce}")
        .parse()
        .expect("a probe stack id is a slug");
    let other: IntegrationId = IntegrationId::generate();
    let mut probes = vec![
        Probe::NoExternalId,
        Probe::OtherIntegration(ExternalId::derive(
            account,
            &other,
            attached.unwrap_or(&probe_stack),
            Phase::Read,
        )),
        Probe::Random(
            format!("deputy-probe-{nonce}")
                .parse()
                .expect("a probe id is an External ID"),
        ),
    ];
    if !scoped.custom_id {
        probes.push(Probe::UnattachedStack(ExternalId::derive(
            account,
            integration,
            &probe_stack,
            scoped.phase,
        )));
    }
    if !scoped.custom_id && scoped.scope == TrustScope::Integration {
        probes.push(Probe::OtherPhase(
            format!("{account}@{integration}@{probe_stack}@deputy-probe")
                .parse()
                .expect("a probe id is an External ID"),
        ));
    }
    probes
}

/// How one probe's AssumeRole call went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Allowed,
    Denied,
    /// Any other error: the code and message.
    Error(String),
}

/// Why a role is not safe to use, with the fix. `None` when it is.
pub fn judge(
    probe: &Probe,
    answer: &Answer,
    declared: TrustScope,
    role: &RoleArn,
) -> Option<String> {
    match (probe, answer) {
        (Probe::Confirm { .. }, Answer::Allowed) => None,
        (Probe::Confirm { phase, .. }, Answer::Denied) => Some(format!(
            "AssumeRole on {role} with the {phase} External ID was denied, after retrying for as long \
             as IAM usually needs to make a new role assumable. The role's trust policy must allow \
             deputy's principal with that External ID"
        )),
        (Probe::Confirm { phase, .. }, Answer::Error(e)) => Some(format!(
            "AssumeRole on {role} with the {phase} External ID failed: {e}. {}",
            hint(e)
        )),
        (Probe::UnattachedStack(id), Answer::Denied) if declared == TrustScope::Integration => {
            Some(format!(
                "{role} refuses {id}, the External ID of a stack that is not attached, but the \
                 integration declares trust_scope = \"integration\": its trust policy lists exact \
                 External IDs instead of the integration's patterns, so every new attachment would \
                 need a new policy. Use the policy deputy emits for this integration (StringLike on \
                 \"<account>@<integration>@*@<phase>\"), or declare trust_scope = \"stack\""
            ))
        }
        (_, Answer::Denied) => None,
        (Probe::NoExternalId, Answer::Allowed) => Some(format!(
            "{role} can be assumed without an External ID: its trust policy does not require \
             sts:ExternalId. Either the statement trusting deputy has no condition on it, or the \
             condition lets a request without one through (a ...IfExists operator, a negated \
             operator such as StringNotEquals, or a Null check). Anyone who can get deputy to name \
             this role could use it (the confused-deputy problem)"
        )),
        (Probe::OtherIntegration(id), Answer::Allowed) => Some(format!(
            "{role} accepts the External ID {id}, which belongs to no integration of this role: its \
             sts:ExternalId condition is a pattern wider than this integration (for example \
             \"<account>@*\"). Anyone who can register another deputy integration naming this role \
             could attach their own stack and use it"
        )),
        (Probe::Random(id), Answer::Allowed) => Some(format!(
            "{role} accepts the made-up External ID {id}: its sts:ExternalId condition accepts any \
             value (for example StringLike \"*\" or a Null check), which proves nothing"
        )),
        (Probe::OtherPhase(id), Answer::Allowed) => Some(format!(
            "{role} accepts {id}, an External ID of this integration with no valid phase: its \
             pattern does not end in \"@read\" or \"@write\", so plans and applies are not kept \
             apart. Use one pattern per phase: \"<account>@<integration>@*@read\" and \
             \"<account>@<integration>@*@write\""
        )),
        (Probe::UnattachedStack(id), Answer::Allowed) => match declared {
            TrustScope::Integration => None,
            TrustScope::Stack => Some(format!(
                "{role} accepts {id}, the External ID of a stack that is not attached: it trusts every \
                 stack of this integration, not the attached ones. Either list the exact External \
                 IDs, or declare trust_scope = \"integration\" on the integration if that is meant"
            )),
        },
        (_, Answer::Error(e)) => Some(format!(
            "AssumeRole on {role} for the probe that must be denied failed in an unexpected way: {e}"
        )),
    }
}

/// What to do about an STS error that retrying cannot fix.
fn hint(error: &str) -> &'static str {
    if error.contains("MaxSessionDuration") {
        "Raise the role's MaxSessionDuration to at least the integration's duration_seconds, or \
         lower duration_seconds"
    } else if error.contains("TagSession") || error.contains("tag") {
        "The trust policy must also allow sts:TagSession when the integration tags sessions"
    } else {
        "Check the role ARN and the broker's AWS identity"
    }
}

/// The scope the probes found: integration when a stack that is not
/// attached was allowed.
pub fn found_scope(answers: &[(Probe, Answer)]) -> TrustScope {
    let wide = answers
        .iter()
        .any(|(p, a)| matches!(p, Probe::UnattachedStack(_)) && *a == Answer::Allowed);
    if wide {
        TrustScope::Integration
    } else {
        TrustScope::Stack
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> VendConfig {
        VendConfig {
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            region: "us-east-1".into(),
            duration_seconds: 3600,
            worker_mode: false,
            custom_external_id: None,
            tag_session: false,
            set_source_identity: false,
            trust_scope: TrustScope::Stack,
            read_session_policy_arns: Vec::new(),
            write_session_policy_arns: Vec::new(),
        }
    }

    #[test]
    fn every_field_changes_the_fingerprint() {
        let base = config().fingerprint();
        let changes: [fn(&mut VendConfig); 10] = [
            |c| c.role_arn.push('2'),
            |c| c.region = "eu-west-1".into(),
            |c| c.duration_seconds = 900,
            |c| c.worker_mode = true,
            |c| c.custom_external_id = Some("x1".into()),
            |c| c.tag_session = true,
            |c| c.set_source_identity = true,
            |c| c.trust_scope = TrustScope::Integration,
            |c| c.read_session_policy_arns = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            |c| c.write_session_policy_arns = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
        ];
        for change in changes {
            let mut c = config();
            change(&mut c);
            assert_ne!(c.fingerprint(), base);
        }
        assert_eq!(config().fingerprint(), base, "stable");
        // Configurations verified before session policies existed keep
        // their fingerprint: empty lists are not part of the digest.
        let canonical = serde_json::to_string(&config()).unwrap();
        assert!(!canonical.contains("session_policy"), "{canonical}");
    }

    #[test]
    fn integration_scope_must_be_what_the_role_does() {
        let role: RoleArn = "arn:aws:iam::123456789012:role/r".parse().unwrap();
        let account: AccountName = "acme".parse().unwrap();
        let integration = IntegrationId::generate();
        let scoped = Scoped {
            custom_id: false,
            scope: TrustScope::Integration,
            phase: Phase::Write,
        };
        let probes = negative_probes(&account, &integration, None, scoped, "n");
        assert_eq!(probes.len(), 5);
        let (unattached, other_phase) = (&probes[3], &probes[4]);
        assert!(
            unattached
                .external_id()
                .unwrap()
                .as_str()
                .ends_with("@write"),
            "the scope probe uses a phase in use: {unattached:?}"
        );
        let declared = TrustScope::Integration;
        assert_eq!(judge(unattached, &Answer::Allowed, declared, &role), None);
        let exact = judge(unattached, &Answer::Denied, declared, &role).unwrap();
        assert!(
            exact.contains("declares trust_scope = \"integration\""),
            "{exact}"
        );
        assert_eq!(judge(other_phase, &Answer::Denied, declared, &role), None);
        let wide = judge(other_phase, &Answer::Allowed, declared, &role).unwrap();
        assert!(wide.contains("one pattern per phase"), "{wide}");
    }

    #[test]
    fn verdicts() {
        let role: RoleArn = "arn:aws:iam::123456789012:role/r".parse().unwrap();
        let account: AccountName = "acme".parse().unwrap();
        let integration = IntegrationId::generate();
        let stack_scope = Scoped {
            custom_id: false,
            scope: TrustScope::Stack,
            phase: Phase::Read,
        };
        let probes = negative_probes(&account, &integration, None, stack_scope, "AbC-123");
        assert_eq!(probes.len(), 4);
        for p in &probes {
            assert_eq!(
                judge(p, &Answer::Denied, TrustScope::Stack, &role),
                None,
                "{p:?}"
            );
            let refused = judge(p, &Answer::Allowed, TrustScope::Stack, &role);
            assert!(
                refused.is_some(),
                "{p:?} allowed must refuse a stack-scoped role"
            );
        }
        let unattached = &probes[3];
        assert!(
            unattached
                .external_id()
                .unwrap()
                .as_str()
                .contains("@deputy-probe-abc123@read")
        );
        assert_eq!(
            judge(unattached, &Answer::Allowed, TrustScope::Integration, &role),
            None
        );
        let open = judge(
            &Probe::NoExternalId,
            &Answer::Allowed,
            TrustScope::Stack,
            &role,
        )
        .unwrap();
        assert!(open.contains("IfExists"), "{open}");
        let custom = Scoped {
            custom_id: true,
            ..stack_scope
        };
        assert_eq!(
            negative_probes(&account, &integration, None, custom, "n").len(),
            3
        );
        let net: StackId = "net".parse().unwrap();
        let other = &negative_probes(&account, &integration, Some(&net), stack_scope, "n")[1];
        assert!(
            other.external_id().unwrap().as_str().ends_with("@net@read"),
            "{other:?}"
        );
    }
}

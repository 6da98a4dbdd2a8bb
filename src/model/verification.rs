//! What verification must prove, as pure rules: the configuration a vend
//! would use, the definition of a safe role, the probes derived from that
//! definition, and how to read their answers. The STS calls themselves are
//! in `sts::verify`; the states and when each runs are in
//! `broker::service::verification`.
//!
//! # The rule
//!
//! A role is safe for an integration when, for **every phase in use** (a
//! phase some verified stack is attached for) and for **every part** of the
//! External ID `account@integration@stack@phase`, the ID with exactly that
//! part replaced by a value nobody holds is denied, unless the declared
//! scope says it must be allowed (another stack of this integration, in
//! integration scope, must be allowed); a call with no External ID and one
//! with an ID of no deputy shape are denied; and, when the broker has a
//! canary principal, the canary presenting the *right* External ID is
//! denied (the role trusts deputy's principal, not its whole account). A
//! worker-mode integration's custom External ID is one part.
//!
//! [`plan`] derives the probes from the rule, so a phase, a part or a scope
//! cannot be forgotten:
//! - each part is replaced twice ([`Substitute`]): by `{value}{nonce}{value}`,
//!   which every pattern made of the value and `*` wildcards (in, before or
//!   after the part) matches, and by a value of the same length, which
//!   every pattern of `?` wildcards over the part matches;
//! - every call that must be denied is sent in two [`Form`]s, as a vend of
//!   that ID would be (session tags for the ID's stack and phase,
//!   SourceIdentity, the phase's session policies) and plain, because
//!   another integration naming the same role may send either. Every call
//!   has a run's session-name shape and the vend's duration, so only the
//!   External ID tells a probe from a vend;
//! - calls that must be allowed (confirmations, the integration-scope
//!   probe) are sent exactly as this integration's vends are.
//!
//! Beyond the rule, a stack-scoped role is asked about trust it should no
//! longer grant: the External IDs of stacks once attached and detached
//! since ([`Subject::former`]). A role that still accepts one is safe for
//! the stacks attached now (the rule holds), but trusts a stack it should
//! not; it is a warning with the statement to use, not a failure.
//!
//! STS calls per verification, with `c` attached (stack, phase) pairs and
//! `p` phases in use: `2c` confirmations (AssumeRole, GetCallerIdentity),
//! `18p + 2` role-level probes in stack scope (`16p + 2` in integration
//! scope, where the stack probes must pass and are sent once), `2p` more
//! with a canary; a worker's custom External ID: `6p + 2`; plus one per
//! detached stack's phase still remembered (at most 16), in stack scope.

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
        format!("v1:{}", super::secret::sha256_hex(&canonical, 16))
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
    tags_of(account.as_str(), stack.as_str(), phase.as_str(), run_id)
}

fn tags_of(account: &str, stack: &str, phase: &str, run_id: &str) -> Vec<(String, String)> {
    vec![
        ("deputy:stack".into(), stack.to_string()),
        ("deputy:run".into(), run_id.to_string()),
        ("deputy:phase".into(), phase.to_string()),
        ("deputy:account".into(), account.to_string()),
    ]
}

/// A part of an External ID the rule replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Account,
    Integration,
    Stack,
    Phase,
    /// A worker-mode integration's custom External ID, whole.
    Custom,
}

impl Part {
    const DERIVED: [Part; 4] = [Part::Account, Part::Integration, Part::Stack, Part::Phase];

    fn as_str(self) -> &'static str {
        match self {
            Part::Account => "account",
            Part::Integration => "integration",
            Part::Stack => "stack",
            Part::Phase => "phase",
            Part::Custom => "external-id",
        }
    }
}

/// How a value nobody holds is made from the one it replaces: no trust
/// policy can list it, and no real External ID has it, so a role that
/// accepts it accepts a pattern, not a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Substitute {
    /// `{value}{nonce}{value}`: it starts with the value, ends with it and
    /// holds it whole, so every pattern built from the value with `*`
    /// (`acme@01J*`, `*Z`, `*prod*`, `*`) matches it. The nonce makes it
    /// unguessable.
    Around,
    /// The same length as the value, differing from it, drawn from the
    /// nonce in the value's alphabet: every pattern of `?` over the part
    /// matches it. A stack's starts with `-`, which no stack id does: a
    /// short id has few neighbours of its length, and one of them may be a
    /// real stack whose exact External ID a safe role lists (a stack about
    /// to be attached), which is no pattern. The other parts cannot meet a
    /// real value: an integration id is 26 random characters, a phase's
    /// length is its own, and another account's ID for this integration
    /// does not exist.
    SameLength,
}

impl Substitute {
    const ALL: [Substitute; 2] = [Substitute::Around, Substitute::SameLength];

    fn as_str(self) -> &'static str {
        match self {
            Substitute::Around => "around",
            Substitute::SameLength => "same-length",
        }
    }

    /// The substitute for `value` in `part`.
    fn apply(self, part: Part, value: &str, nonce: &str) -> String {
        match self {
            Substitute::Around => format!("{value}{nonce}{value}"),
            Substitute::SameLength => {
                // Characters from a digest of the nonce and the part, in
                // the alphabet values of that part use.
                let alphabet: &[u8] = match part {
                    Part::Integration => b"0123456789ABCDEFGHJKMNPQRSTVWXYZ",
                    Part::Phase => b"abcdefghijklmnopqrstuvwxyz",
                    _ => b"abcdefghijklmnopqrstuvwxyz0123456789",
                };
                let mut out = String::with_capacity(value.len());
                let mut block = 0u32;
                while out.len() < value.len() {
                    let digest =
                        Sha256::digest(format!("{nonce}:{}:{block}", part.as_str()).as_bytes());
                    for b in digest {
                        if out.len() == value.len() {
                            break;
                        }
                        out.push(alphabet[b as usize % alphabet.len()] as char);
                    }
                    block += 1;
                }
                let first = if part == Part::Stack {
                    Some(b'-')
                } else if out == value {
                    // One value in 26^n: make it differ in its first place.
                    Some(if out.starts_with(alphabet[0] as char) {
                        alphabet[1]
                    } else {
                        alphabet[0]
                    })
                } else {
                    None
                };
                if let Some(first) = first {
                    out.replace_range(..1, &(first as char).to_string());
                }
                out
            }
        }
    }
}

/// How a probe is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// As a vend of that External ID could be: session tags for the ID's
    /// stack and phase, SourceIdentity, the phase's session policies.
    Vend,
    /// With none of them.
    Plain,
    /// Exactly as this integration's own vends: tags and SourceIdentity
    /// only where it sets them.
    Own,
}

impl Form {
    fn as_str(self) -> &'static str {
        match self {
            Form::Vend => "vend",
            Form::Plain => "plain",
            Form::Own => "own",
        }
    }
}

/// What a probe checks, for its verdict and its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// An attached stack's phase: must be allowed.
    Confirm { stack: StackId, phase: Phase },
    /// The ID of `phase` with `part` replaced.
    Part {
        phase: Phase,
        part: Part,
        substitute: Substitute,
    },
    /// No External ID at all.
    NoExternalId,
    /// An External ID of no deputy shape.
    NoDeputyShape,
    /// The canary principal with the right External ID of `phase`.
    Canary { phase: Phase },
    /// The External ID of a stack's phase that was attached once and is no
    /// longer: a safe role need not deny it, a tidy one does.
    Former { stack: StackId, phase: Phase },
}

/// What a safe role answers to a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Allowed,
    Denied,
}

/// Who makes a probe's call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The broker's (or worker's) own principal, as vends are made.
    Deputy,
    /// The canary: another principal of the broker's account.
    Canary,
}

/// One AssumeRole call verification makes, and what a safe role answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The step's name in reports: `confirm:STACK:PHASE`,
    /// `deny:PHASE:PART-SUBSTITUTE:FORM`, `scope:PHASE:stack-SUBSTITUTE`,
    /// `deny:PHASE:no-external-id:vend`, `deny:no-external-id:plain`,
    /// `deny:PHASE:no-deputy-shape:vend`, `canary:PHASE:FORM`.
    pub name: String,
    pub check: Check,
    pub expect: Expect,
    pub caller: Caller,
    pub external_id: Option<ExternalId>,
    /// Session tags to pass.
    pub tags: Vec<(String, String)>,
    /// Pass the run's SourceIdentity.
    pub source_identity: bool,
    /// Pass this phase's session policies.
    pub session_policies: Option<Phase>,
}

impl Probe {
    /// The report's step name for confirming `stack`'s `phase`.
    pub fn confirm_name(stack: &StackId, phase: Phase) -> String {
        format!("confirm:{stack}:{phase}")
    }

    /// The report's step name for checking that `stack`'s `phase`, whose
    /// trust was removed, is refused now.
    pub fn former_name(stack: &StackId, phase: Phase) -> String {
        format!("former:{stack}:{phase}")
    }

    /// Whether a step of that name is a call without an External ID (a
    /// report that has none did not run the rule).
    pub fn is_no_external_id(step: &str) -> bool {
        step.starts_with("deny:") && step.contains("no-external-id")
    }

    pub fn confirming(&self) -> bool {
        matches!(self.check, Check::Confirm { .. })
    }
}

/// The integration being verified, as far as the rule needs it.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub account: &'a AccountName,
    pub integration: &'a IntegrationId,
    /// A worker-mode integration's custom External ID.
    pub custom: Option<&'a ExternalId>,
    pub scope: TrustScope,
    pub tag_session: bool,
    pub set_source_identity: bool,
    /// The broker has a canary principal to probe with.
    pub canary: bool,
    /// Stacks' phases attached once and no longer, whose External IDs the
    /// role should have dropped (probed in stack scope without a custom
    /// External ID, where each stack has IDs of its own).
    pub former: &'a [(StackId, Phase)],
}

/// A verification's calls, all made with one run id.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The run id every call uses: its session name and SourceIdentity
    /// (`session_names::session_name`), and the `deputy:run` tag.
    pub run_id: String,
    /// Confirmations first (they are retried while a new role becomes
    /// assumable), then the role-level probes.
    pub probes: Vec<Probe>,
}

/// The probes the rule demands for verifying `subject` for `targets`
/// (stacks and the phases to confirm for each). `nonce` makes every value
/// nobody holds unguessable and unique to this verification. The broker
/// and a worker (`deputy verify --as-worker`) derive the same plan, each
/// running it with its own identity.
/// Stacks and the phases to confirm for each.
pub type Targets = Vec<(StackId, Vec<Phase>)>;

pub fn plan(subject: &Subject<'_>, targets: &[(StackId, Vec<Phase>)], nonce: &str) -> Plan {
    let nonce: String = nonce
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(20)
        .collect();
    let run_id = format!("deputy-verify-{nonce}");
    let own_tags = |stack: &StackId, phase: Phase| {
        if subject.tag_session {
            session_tags(subject.account, stack, phase, &run_id)
        } else {
            Vec::new()
        }
    };
    let mut probes = Vec::new();
    for (stack, phases) in targets {
        for phase in phases {
            probes.push(Probe {
                name: Probe::confirm_name(stack, *phase),
                check: Check::Confirm {
                    stack: stack.clone(),
                    phase: *phase,
                },
                expect: Expect::Allowed,
                caller: Caller::Deputy,
                external_id: Some(external_id(subject, stack, *phase)),
                tags: own_tags(stack, *phase),
                source_identity: subject.set_source_identity,
                session_policies: Some(*phase),
            });
        }
    }
    // Each phase in use, with the first stack attached for it.
    let in_use = Phase::ALL.into_iter().filter_map(|phase| {
        targets
            .iter()
            .find(|(_, phases)| phases.contains(&phase))
            .map(|(stack, _)| (phase, stack))
    });
    for (phase, stack) in in_use {
        let parts: &[Part] = if subject.custom.is_some() {
            &[Part::Custom]
        } else {
            &Part::DERIVED
        };
        let mut values = [
            subject.account.to_string(),
            subject.integration.to_string(),
            stack.to_string(),
            phase.to_string(),
        ];
        for &part in parts {
            for substitute in Substitute::ALL {
                let (id, tags) = match part {
                    Part::Custom => {
                        let custom = subject.custom.expect("custom parts only with one");
                        let id = substitute.apply(part, custom.as_str(), &nonce);
                        (id, tags_of(&values[0], &values[2], &values[3], &run_id))
                    }
                    _ => {
                        let i = match part {
                            Part::Account => 0,
                            Part::Integration => 1,
                            Part::Stack => 2,
                            _ => 3,
                        };
                        let original = std::mem::take(&mut values[i]);
                        values[i] = substitute.apply(part, &original, &nonce);
                        let id = values.join("@");
                        let tags = tags_of(&values[0], &values[2], &values[3], &run_id);
                        values[i] = original;
                        (id, tags)
                    }
                };
                let external_id: ExternalId = id.parse().expect("substitutes keep STS's charset");
                let check = Check::Part {
                    phase,
                    part,
                    substitute,
                };
                // In integration scope another stack of this integration is
                // what the role must accept: sent as this integration's
                // vends are, once.
                if part == Part::Stack && subject.scope == TrustScope::Integration {
                    probes.push(Probe {
                        name: format!("scope:{phase}:stack-{}", substitute.as_str()),
                        check,
                        expect: Expect::Allowed,
                        caller: Caller::Deputy,
                        tags: if subject.tag_session {
                            tags
                        } else {
                            Vec::new()
                        },
                        external_id: Some(external_id),
                        source_identity: subject.set_source_identity,
                        session_policies: Some(phase),
                    });
                    continue;
                }
                for form in [Form::Vend, Form::Plain] {
                    probes.push(denied(
                        format!(
                            "deny:{phase}:{}-{}:{}",
                            part.as_str(),
                            substitute.as_str(),
                            form.as_str()
                        ),
                        check.clone(),
                        Some(external_id.clone()),
                        form,
                        &tags,
                        phase,
                    ));
                }
            }
        }
        let tags = tags_of(&values[0], &values[2], &values[3], &run_id);
        probes.push(denied(
            format!("deny:{phase}:no-external-id:vend"),
            Check::NoExternalId,
            None,
            Form::Vend,
            &tags,
            phase,
        ));
        probes.push(denied(
            format!("deny:{phase}:no-deputy-shape:vend"),
            Check::NoDeputyShape,
            Some(no_deputy_shape(&nonce)),
            Form::Vend,
            &tags,
            phase,
        ));
        if subject.canary {
            let right = external_id(subject, stack, phase);
            for form in [Form::Vend, Form::Plain] {
                probes.push(Probe {
                    caller: Caller::Canary,
                    ..denied(
                        format!("canary:{phase}:{}", form.as_str()),
                        Check::Canary { phase },
                        Some(right.clone()),
                        form,
                        &tags,
                        phase,
                    )
                });
            }
        }
    }
    // Plain calls without a deputy ID are the same for every phase: once.
    if targets.iter().any(|(_, phases)| !phases.is_empty()) {
        probes.push(denied(
            "deny:no-external-id:plain".into(),
            Check::NoExternalId,
            None,
            Form::Plain,
            &[],
            Phase::Read,
        ));
        probes.push(denied(
            "deny:no-deputy-shape:plain".into(),
            Check::NoDeputyShape,
            Some(no_deputy_shape(&nonce)),
            Form::Plain,
            &[],
            Phase::Read,
        ));
    }
    if subject.scope == TrustScope::Stack && subject.custom.is_none() {
        for (stack, phase) in subject.former {
            probes.push(Probe {
                name: Probe::former_name(stack, *phase),
                check: Check::Former {
                    stack: stack.clone(),
                    phase: *phase,
                },
                expect: Expect::Denied,
                caller: Caller::Deputy,
                external_id: Some(external_id(subject, stack, *phase)),
                tags: own_tags(stack, *phase),
                source_identity: subject.set_source_identity,
                session_policies: Some(*phase),
            });
        }
    }
    Plan { run_id, probes }
}

/// The warning for a role that still accepts `probe`'s External ID, a
/// stack's that is no longer attached; `None` for any other probe or
/// answer. `statement` is the statement to use instead.
pub fn stale_trust(
    probe: &Probe,
    answer: &Answer,
    role: &RoleArn,
    statement: &str,
) -> Option<String> {
    let (Check::Former { stack, phase }, Answer::Allowed) = (&probe.check, answer) else {
        return None;
    };
    let id = probe
        .external_id
        .as_ref()
        .map(ExternalId::as_str)
        .unwrap_or_default();
    Some(format!(
        "{role} still accepts {id}, the {phase} External ID of stack {stack}, which is no longer \
         attached to this integration: the stacks attached now are safe, but the role trusts one \
         it should not (attaching a stack with that id again would need no change to the role). \
         Drop it from the trust policy; the statement that trusts deputy should be: {statement}"
    ))
}

/// The External ID a vend of `stack`'s `phase` uses.
fn external_id(subject: &Subject<'_>, stack: &StackId, phase: Phase) -> ExternalId {
    ExternalId::for_phase(
        subject.account,
        subject.integration,
        subject.custom,
        stack,
        phase,
    )
}

fn no_deputy_shape(nonce: &str) -> ExternalId {
    format!("deputy-probe-{nonce}")
        .parse()
        .expect("a probe id is an External ID")
}

/// A probe that must be denied, sent in `form`.
fn denied(
    name: String,
    check: Check,
    external_id: Option<ExternalId>,
    form: Form,
    tags: &[(String, String)],
    phase: Phase,
) -> Probe {
    let vend = form == Form::Vend;
    Probe {
        name,
        check,
        expect: Expect::Denied,
        caller: Caller::Deputy,
        external_id,
        tags: if vend { tags.to_vec() } else { Vec::new() },
        source_identity: vend,
        session_policies: vend.then_some(phase),
    }
}

/// How one probe's AssumeRole call went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Allowed,
    Denied,
    /// Any other error: the code and message.
    Error(String),
}

/// Why a role is not safe to use, with the fix. `None` when the answer is
/// the one a safe role gives.
pub fn judge(probe: &Probe, answer: &Answer, role: &RoleArn) -> Option<String> {
    let sent = match (&probe.tags.is_empty(), probe.source_identity) {
        (false, _) | (_, true) => " (sent as a vend is: with session tags and a SourceIdentity)",
        _ => "",
    };
    let id = probe
        .external_id
        .as_ref()
        .map(ExternalId::as_str)
        .unwrap_or_default();
    match (&probe.check, probe.expect, answer) {
        // Stale trust is a warning (see [`stale_trust`]), never a verdict.
        (Check::Former { .. }, _, _) => None,
        (Check::Confirm { .. }, _, Answer::Allowed) => None,
        (Check::Confirm { stack, phase }, _, Answer::Denied) => {
            Some(denied_confirmations(role, &[(stack, vec![*phase])]))
        }
        (Check::Confirm { phase, .. }, _, Answer::Error(e)) => Some(format!(
            "AssumeRole on {role} with the {phase} External ID failed: {}. {}",
            e.trim_end_matches('.'),
            hint(e)
        )),
        (Check::Part { .. }, Expect::Allowed, Answer::Denied) => Some(format!(
            "{role} refuses {id}, the External ID of a stack that is not attached, but the \
             integration declares trust_scope = \"integration\": its trust policy lists exact \
             External IDs instead of the integration's patterns, so every new attachment would \
             need a new policy. Use the policy deputy emits for this integration (StringLike on \
             \"<account>@<integration>@*@<phase>\"), or declare trust_scope = \"stack\""
        )),
        (_, Expect::Allowed, Answer::Allowed) | (_, Expect::Denied, Answer::Denied) => None,
        (_, Expect::Allowed, Answer::Denied) => Some(format!(
            "{role} refused the probe {}, which a safe role for this integration allows",
            probe.name
        )),
        (Check::NoExternalId, _, Answer::Allowed) => Some(format!(
            "{role} can be assumed without an External ID{sent}: its trust policy does not require \
             sts:ExternalId. Either the statement trusting deputy has no condition on it, or the \
             condition lets a request without one through (a ...IfExists operator, a negated \
             operator such as StringNotEquals, or a Null check). Anyone who can get deputy to name \
             this role could use it (the confused-deputy problem)"
        )),
        (Check::NoDeputyShape, _, Answer::Allowed) => Some(format!(
            "{role} accepts the made-up External ID {id}{sent}: its sts:ExternalId condition \
             accepts any value (for example StringLike \"*\"), which proves nothing"
        )),
        (Check::Canary { phase }, _, Answer::Allowed) => Some(format!(
            "{role} lets the broker's canary, another principal of deputy's own AWS account, assume \
             it with the {phase} External ID{sent}: the trust policy trusts the whole account (its \
             root, \"arn:aws:iam::ACCOUNT:root\") or any principal (\"*\", perhaps narrowed by \
             aws:PrincipalAccount), not deputy's principal. External IDs are not secrets, so every \
             principal of that account could use the role without deputy. Name deputy's exact \
             principal in the statement"
        )),
        (Check::Part { part, phase, .. }, _, Answer::Allowed) => Some(match part {
            Part::Account => format!(
                "{role} accepts {id}{sent}: the {phase} External ID with another account name in \
                 place of this broker's. Its sts:ExternalId condition is a pattern wider than this \
                 deputy account; list the exact External IDs, or the integration's patterns"
            ),
            Part::Integration => format!(
                "{role} accepts {id}{sent}: the {phase} External ID with another integration in \
                 place of this one. Its sts:ExternalId condition is a pattern wider than this \
                 integration (for example \"<account>@*@*@{phase}\"), so anyone who can register \
                 another deputy integration naming this role could attach their own stack and use \
                 it"
            ),
            Part::Stack => format!(
                "{role} accepts {id}{sent}, the {phase} External ID of a stack that is not \
                 attached: it trusts more stacks of this integration than the attached ones. \
                 Either list the exact External IDs, or declare trust_scope = \"integration\" on \
                 the integration if that is meant"
            ),
            Part::Phase => format!(
                "{role} accepts {id}{sent}, an External ID of this integration with no valid \
                 phase: its pattern does not end in \"@read\" or \"@write\", so plans and applies \
                 are not kept apart. Use one pattern per phase: \"<account>@<integration>@*@read\" \
                 and \"<account>@<integration>@*@write\""
            ),
            Part::Custom => format!(
                "{role} accepts {id}{sent}, a value that is not this integration's custom External \
                 ID: its sts:ExternalId condition is a pattern, so other External IDs pass too. \
                 Require the exact value with StringEquals"
            ),
        }),
        (_, _, Answer::Error(e)) => Some(format!(
            "AssumeRole on {role} for the probe {} failed in an unexpected way: {}",
            probe.name,
            e.trim_end_matches('.')
        )),
    }
}

/// The sentence for confirmations the role denied: each stack once, with
/// the phases whose External IDs it refused.
fn denied_confirmations(role: &RoleArn, denied: &[(&StackId, Vec<Phase>)]) -> String {
    let each: Vec<String> = denied
        .iter()
        .map(|(stack, phases)| {
            let names: Vec<&str> = phases.iter().map(|p| p.as_str()).collect();
            let ids = if phases.len() == 1 { "ID" } else { "IDs" };
            format!(
                "the {} External {ids} of stack {stack}",
                names.join(" and ")
            )
        })
        .collect();
    let list = match each.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    format!(
        "AssumeRole on {role} was denied with {list}, after retrying for as long as IAM usually \
         needs to make a new role assumable. The role's trust policy must allow deputy's \
         principal with those External IDs (the Trust Policy tab and the trust_policy data \
         source give the exact document)"
    )
}

/// A failed verification's explanation, from each probe whose answer was
/// not a safe role's and its verdict: every distinct reason once, and all
/// the confirmations the role denied as one sentence naming each stack.
pub fn explain(role: &RoleArn, failed: &[(&Probe, &Answer, String)]) -> Vec<String> {
    let mut denied: Vec<(&StackId, Vec<Phase>)> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    for (probe, answer, verdict) in failed {
        match (&probe.check, answer) {
            (Check::Confirm { stack, phase }, Answer::Denied) => {
                match denied.iter_mut().find(|(s, _)| *s == stack) {
                    Some((_, phases)) => phases.push(*phase),
                    None => denied.push((stack, vec![*phase])),
                }
            }
            _ if reasons.contains(verdict) => {}
            _ => reasons.push(verdict.clone()),
        }
    }
    if !denied.is_empty() {
        reasons.insert(0, denied_confirmations(role, &denied));
    }
    reasons
}

/// What precedes, in a failed report's explanation, the statement the
/// role's trust policy should hold (JSON, to the end of the text).
pub const STATEMENT_TO_USE: &str = "The statement that trusts deputy should be: ";

/// What a failed verification means for the person reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A call a safe role denies was let through: the role trusts someone
    /// it should not. `what` says who, in one sentence.
    Unsafe { what: String },
    /// The role refused a call deputy's vends make: nothing is vended until
    /// its trust policy accepts it (or IAM finishes applying a change).
    NotAssumable,
    /// STS failed another way: a session longer than the role allows, a
    /// missing permission, an outage.
    Failed,
}

/// The finding of a failed verification from its failed steps: each one's
/// name (as [`Probe::name`] documents) and how STS answered its call.
/// Unsafe wins over not assumable: a role open to others must be fixed
/// before anything else. Of several openings the widest is named (a role
/// that needs no External ID also accepts every wrong one). Only
/// AccessDenied on a call deputy's vends make is "not assumable"; any
/// other error (a session longer than the role allows, throttling) is a
/// failure of its own.
pub fn finding<'a>(failed: impl IntoIterator<Item = (&'a str, Answer)>) -> Finding {
    let mut refused = false;
    let mut widest: Option<(usize, &'static str)> = None;
    for (name, answer) in failed {
        let must_deny = name.starts_with("deny:") || name.starts_with("canary:");
        if must_deny && answer == Answer::Allowed {
            let opening = opening(name);
            if widest.is_none_or(|(rank, _)| opening.0 < rank) {
                widest = Some(opening);
            }
        }
        let vend_shaped = name.starts_with("confirm:") || name.starts_with("scope:");
        if vend_shaped && answer == Answer::Denied {
            refused = true;
        }
    }
    match widest {
        Some((_, what)) => Finding::Unsafe {
            what: what.to_string(),
        },
        None if refused => Finding::NotAssumable,
        None => Finding::Failed,
    }
}

/// What a let-through probe of that name proves, in one sentence, and how
/// wide that opening is (0 the widest).
fn opening(name: &str) -> (usize, &'static str) {
    (
        [
            ":no-external-id",
            ":no-deputy-shape",
            "canary:",
            ":account-",
            ":integration-",
            ":stack-",
            ":phase-",
        ]
        .iter()
        .position(|mark| name.contains(mark))
        .unwrap_or(7),
        let_through_sentence(name),
    )
}

/// One sentence on what a let-through probe of that name proves.
fn let_through_sentence(name: &str) -> &'static str {
    if name.starts_with("canary:") {
        return "Another principal of deputy's own AWS account assumed the role with a right \
                External ID: the role trusts the whole account, not deputy.";
    }
    if name.contains(":no-external-id") {
        return "The role can be assumed without any External ID.";
    }
    if name.contains(":no-deputy-shape") {
        return "The role accepted a made-up External ID: its condition accepts any value.";
    }
    // deny:PHASE:PART-SUBSTITUTE:FORM
    let part = name.split(':').nth(2).unwrap_or_default();
    match Part::DERIVED
        .into_iter()
        .chain([Part::Custom])
        .find(|p| part.starts_with(p.as_str()))
    {
        Some(Part::Account) => "The role accepted an External ID naming another deputy account.",
        Some(Part::Integration) => {
            "The role accepted an External ID naming another integration: anyone who registers \
             an integration for this role could use it."
        }
        Some(Part::Stack) => "The role accepted the External ID of a stack that is not attached.",
        Some(Part::Phase) => {
            "The role accepted an External ID without a valid phase: plans and applies are not \
             kept apart."
        }
        Some(Part::Custom) => "The role accepted a value other than the custom External ID.",
        None => "The role let through a call a safe role denies.",
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

/// The scope the probes found: integration when the role accepted a stack
/// that is not attached.
pub fn found_scope(answers: &[(&Probe, Answer)]) -> TrustScope {
    let wide = answers.iter().any(|(p, a)| {
        matches!(
            p.check,
            Check::Part {
                part: Part::Stack,
                ..
            }
        ) && *a == Answer::Allowed
    });
    if wide {
        TrustScope::Integration
    } else {
        TrustScope::Stack
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A confirmation probe of `stack`'s `phase`, as the plan makes one.
    fn confirmation(stack: &str, phase: Phase) -> Probe {
        let stack: StackId = stack.parse().unwrap();
        Probe {
            name: Probe::confirm_name(&stack, phase),
            check: Check::Confirm { stack, phase },
            expect: Expect::Allowed,
            caller: Caller::Deputy,
            external_id: None,
            tags: Vec::new(),
            source_identity: false,
            session_policies: None,
        }
    }

    #[test]
    fn a_finding_says_unsafe_before_not_assumable_and_names_what_was_let_through() {
        let unsafe_because = |name: &str| match finding([
            ("confirm:net:read", Answer::Denied),
            (name, Answer::Allowed),
        ]) {
            Finding::Unsafe { what } => what,
            other => panic!("{name}: {other:?}"),
        };
        assert!(unsafe_because("deny:no-external-id:plain").contains("without any External ID"));
        assert!(
            unsafe_because("deny:read:integration-around:vend").contains("another integration")
        );
        assert!(unsafe_because("deny:write:stack-same-length:plain").contains("not attached"));
        assert!(unsafe_because("deny:read:phase-around:vend").contains("valid phase"));
        assert!(unsafe_because("deny:read:account-around:vend").contains("another deputy account"));
        assert!(unsafe_because("deny:read:external-id-around:vend").contains("custom External ID"));
        assert!(unsafe_because("deny:read:no-deputy-shape:vend").contains("made-up"));
        assert!(unsafe_because("canary:read:vend").contains("whole account"));
        // A must-deny probe that failed with an error, not let through, is
        // no proof of openness.
        assert_eq!(
            finding([
                (
                    "deny:read:account-around:vend",
                    Answer::Error("Throttling".into())
                ),
                ("confirm:net:read", Answer::Denied)
            ]),
            Finding::NotAssumable
        );
        // A confirmation that failed another way (the role's maximum
        // session is shorter) is no refusal of deputy.
        let longer = Answer::Error("ValidationError: DurationSeconds exceeds".into());
        assert_eq!(finding([("confirm:net:read", longer)]), Finding::Failed);
        assert_eq!(
            finding([("confirm:net:read", Answer::Allowed)]),
            Finding::Failed
        );
        // A role with no condition lets everything through: the widest
        // opening is the one named, whatever the steps' order.
        let open = finding([
            ("deny:read:account-around:vend", Answer::Allowed),
            ("deny:read:no-external-id:vend", Answer::Allowed),
            ("deny:read:stack-around:plain", Answer::Allowed),
        ]);
        assert!(
            matches!(&open, Finding::Unsafe { what } if what.contains("without any External ID")),
            "{open:?}"
        );
    }

    #[test]
    fn an_explanation_names_each_denied_stack_once_and_each_reason_once() {
        let role: RoleArn = "arn:aws:iam::123456789012:role/r".parse().unwrap();
        let probes = [
            confirmation("net", Phase::Read),
            confirmation("net", Phase::Write),
            confirmation("dns", Phase::Write),
        ];
        let open = Probe {
            name: "deny:read:no-external-id:vend".into(),
            check: Check::NoExternalId,
            expect: Expect::Denied,
            ..confirmation("net", Phase::Read)
        };
        let plain = Probe {
            name: "deny:no-external-id:plain".into(),
            ..open.clone()
        };
        let mut failed: Vec<(&Probe, &Answer, String)> = Vec::new();
        for p in &probes {
            failed.push((
                p,
                &Answer::Denied,
                judge(p, &Answer::Denied, &role).unwrap(),
            ));
        }
        for p in [&open, &plain] {
            failed.push((
                p,
                &Answer::Allowed,
                judge(p, &Answer::Allowed, &role).unwrap(),
            ));
        }
        let reasons = explain(&role, &failed);
        assert_eq!(reasons.len(), 2, "{reasons:#?}");
        assert!(
            reasons[0].contains(
                "denied with the read and write External IDs of stack net and the write \
                 External ID of stack dns, after"
            ),
            "{}",
            reasons[0]
        );
        assert!(
            reasons[1].contains("without an External ID"),
            "{}",
            reasons[1]
        );
    }

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

    /// IAM's StringLike: `*` any run, `?` any one character.
    fn like(pattern: &str, value: &str) -> bool {
        let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
        let mut m = vec![vec![false; v.len() + 1]; p.len() + 1];
        m[0][0] = true;
        for i in 1..=p.len() {
            for j in 0..=v.len() {
                m[i][j] = match p[i - 1] {
                    '*' => m[i - 1][j] || (j > 0 && m[i][j - 1]),
                    '?' => j > 0 && m[i - 1][j - 1],
                    c => j > 0 && m[i - 1][j - 1] && v[j - 1] == c,
                };
            }
        }
        m[p.len()][v.len()]
    }

    proptest! {
        /// Any pattern made from a value by wildcarding, that matches more
        /// than the value alone, matches a substitute: `*` patterns the
        /// Around one, `?` patterns the SameLength one.
        #[test]
        fn substitutes_match_every_wildcard_pattern_of_the_value(
            value in "[a-z0-9][a-z0-9-]{0,30}",
            cut in (0usize..40, 0usize..40),
            marks in proptest::collection::vec(0usize..40, 1..4),
            nonce in "[a-z0-9]{8,20}",
        ) {
            let n = value.len();
            let (a, b) = (cut.0 % (n + 1), cut.1 % (n + 1));
            let (a, b) = (a.min(b), a.max(b));
            // A star replacing value[a..b] (prefix*, *suffix, pre*suf, *).
            let star = format!("{}*{}", &value[..a], &value[b..]);
            let around = Substitute::Around.apply(Part::Stack, &value, &nonce);
            prop_assert!(like(&star, &value));
            prop_assert!(like(&star, &around), "{star} / {around}");
            // Stars around (*value, value*, *value*), and a star inside.
            for p in [format!("*{value}"), format!("{value}*"), format!("*{value}*")] {
                prop_assert!(like(&p, &around), "{p} / {around}");
            }
            // Question marks at some places: the same-length substitute
            // matches when every place that differs is one of them.
            let same = Substitute::SameLength.apply(Part::Stack, &value, &nonce);
            prop_assert_eq!(same.len(), n);
            prop_assert_ne!(&same, &value);
            // No stack holds it, now or later: a role listing the exact
            // External IDs of other real stacks is not taken for a pattern.
            prop_assert!(same.parse::<StackId>().is_err(), "{same}");
            let all_marks: String = "?".repeat(n);
            prop_assert!(like(&all_marks, &same));
            let mut some: Vec<char> = value.chars().collect();
            for m in &marks { some[m % n] = '?'; }
            let some: String = some.into_iter().collect();
            let differs_only_there = value.chars().zip(same.chars()).zip(some.chars())
                .all(|((v, s), p)| v == s || p == '?');
            prop_assert_eq!(like(&some, &same), differs_only_there);
        }

        /// Every phase in use gets every part, twice replaced, in the forms
        /// the rule says; the count is the README's formula.
        #[test]
        fn the_plan_follows_the_rule(
            read in proptest::collection::vec(any::<bool>(), 1..4),
            write in proptest::collection::vec(any::<bool>(), 1..4),
            integration_scope in any::<bool>(),
            custom in any::<bool>(),
            canary in any::<bool>(),
            tags in any::<bool>(),
        ) {
            let account: AccountName = "acme".parse().unwrap();
            let integration = IntegrationId::generate();
            let custom_id: ExternalId = "customer-supplied-42".parse().unwrap();
            let scope = if integration_scope { TrustScope::Integration } else { TrustScope::Stack };
            let subject = Subject {
                account: &account,
                integration: &integration,
                custom: custom.then_some(&custom_id),
                scope,
                tag_session: tags,
                set_source_identity: tags,
                canary,
                former: &[],
            };
            let targets: Vec<(StackId, Vec<Phase>)> = read.iter().zip(&write).enumerate()
                .map(|(i, (r, w))| {
                    let phases = Phase::from_flags(*r, *w);
                    (format!("s{i}").parse().unwrap(), phases)
                })
                .collect();
            let plan = plan(&subject, &targets, "01JNONCE0000abcdefghij");
            let pairs: usize = targets.iter().map(|(_, p)| p.len()).sum();
            let in_use: Vec<Phase> = Phase::ALL.into_iter()
                .filter(|p| targets.iter().any(|(_, ps)| ps.contains(p))).collect();
            let p = in_use.len();
            let confirms = plan.probes.iter().filter(|x| x.confirming()).count();
            prop_assert_eq!(confirms, pairs);
            prop_assert!(plan.probes[..confirms].iter().all(Probe::confirming), "confirms first");
            let per_phase = match (custom, scope) {
                (true, _) => 6,
                (false, TrustScope::Stack) => 18,
                (false, TrustScope::Integration) => 16,
            } + if canary { 2 } else { 0 };
            let shared = if p > 0 { 2 } else { 0 };
            prop_assert_eq!(plan.probes.len() - confirms, per_phase * p + shared);
            let names: std::collections::BTreeSet<&str> =
                plan.probes.iter().map(|x| x.name.as_str()).collect();
            prop_assert_eq!(names.len(), plan.probes.len(), "names are unique");
            let parts: &[Part] = if custom { &[Part::Custom] } else { &Part::DERIVED };
            for phase in &in_use {
                for part in parts {
                    for substitute in Substitute::ALL {
                        let probes: Vec<&Probe> = plan.probes.iter().filter(|x| x.check == Check::Part {
                            phase: *phase, part: *part, substitute,
                        }).collect();
                        let must_allow = *part == Part::Stack && scope == TrustScope::Integration;
                        if must_allow {
                            prop_assert_eq!(probes.len(), 1);
                            prop_assert_eq!(probes[0].expect, Expect::Allowed);
                            prop_assert_eq!(!probes[0].tags.is_empty(), tags, "sent as own vends");
                        } else {
                            prop_assert_eq!(probes.len(), 2, "{:?} {:?}", part, substitute);
                            prop_assert!(probes.iter().all(|x| x.expect == Expect::Denied));
                            prop_assert!(probes.iter().any(|x| x.tags.is_empty() && !x.source_identity));
                            prop_assert!(probes.iter().any(|x| !x.tags.is_empty() && x.source_identity));
                        }
                        for x in probes {
                            let id = x.external_id.as_ref().unwrap().as_str();
                            prop_assert!(id.contains("01jnonce0000abcdefgh") || *part != Part::Custom
                                || substitute == Substitute::SameLength);
                            if *part != Part::Custom {
                                // Exactly that part is replaced.
                                let got: Vec<&str> = id.split('@').collect();
                                let stack = targets.iter().find(|(_, ps)| ps.contains(phase)).unwrap().0.as_str();
                                let base = [account.as_str(), integration.as_str(), stack, phase.as_str()];
                                let i = Part::DERIVED.iter().position(|q| q == part).unwrap();
                                for (j, (g, b)) in got.iter().zip(base).enumerate() {
                                    prop_assert_eq!(*g == b, j != i, "{} part {}", id, j);
                                }
                            }
                        }
                    }
                }
                let canaries = plan.probes.iter()
                    .filter(|x| x.check == Check::Canary { phase: *phase }).count();
                prop_assert_eq!(canaries, if canary { 2 } else { 0 });
            }
            let canary_only = plan.probes.iter().all(|x| x.caller == Caller::Deputy
                || matches!(x.check, Check::Canary { .. }));
            prop_assert!(canary_only, "only canary probes are the canary's");
        }
    }

    /// A derived-ID integration of account `acme`, tagging and setting
    /// SourceIdentity when `vend_extras`.
    fn subject<'a>(
        account: &'a AccountName,
        integration: &'a IntegrationId,
        scope: TrustScope,
        vend_extras: bool,
        canary: bool,
    ) -> Subject<'a> {
        Subject {
            account,
            integration,
            custom: None,
            scope,
            tag_session: vend_extras,
            set_source_identity: vend_extras,
            canary,
            former: &[],
        }
    }

    #[test]
    fn trust_left_to_detached_stacks_is_probed_in_stack_scope_and_only_warns() {
        let role: RoleArn = "arn:aws:iam::123456789012:role/r".parse().unwrap();
        let account: AccountName = "acme".parse().unwrap();
        let integration = IntegrationId::generate();
        let former = [("gone".parse::<StackId>().unwrap(), Phase::Write)];
        let targets = [("net".parse::<StackId>().unwrap(), vec![Phase::Write])];
        for scope in [TrustScope::Stack, TrustScope::Integration] {
            let plan = plan(
                &Subject {
                    former: &former,
                    ..subject(&account, &integration, scope, true, false)
                },
                &targets,
                "n0nce",
            );
            let probes: Vec<&Probe> = plan
                .probes
                .iter()
                .filter(|p| matches!(p.check, Check::Former { .. }))
                .collect();
            if scope == TrustScope::Integration {
                assert!(
                    probes.is_empty(),
                    "every stack of the integration is trusted there"
                );
                continue;
            }
            let [probe] = probes[..] else {
                panic!("one probe per former phase: {probes:?}")
            };
            assert_eq!(probe.name, "former:gone:write");
            assert_eq!(
                probe.external_id.as_ref().unwrap().as_str(),
                format!("acme@{integration}@gone@write")
            );
            assert!(probe.tags.contains(&("deputy:stack".into(), "gone".into())));
            for answer in [Answer::Allowed, Answer::Denied, Answer::Error("x".into())] {
                assert_eq!(judge(probe, &answer, &role), None, "never a failure");
            }
            let warning = stale_trust(probe, &Answer::Allowed, &role, "{}").unwrap();
            assert!(warning.contains("no longer attached"), "{warning}");
            assert!(warning.contains("should be: {}"), "{warning}");
            assert_eq!(stale_trust(probe, &Answer::Denied, &role, "{}"), None);
        }
    }

    #[test]
    fn verdicts_name_the_hole_and_the_fix() {
        let role: RoleArn = "arn:aws:iam::123456789012:role/r".parse().unwrap();
        let account: AccountName = "acme".parse().unwrap();
        let integration = IntegrationId::generate();
        let subject = subject(&account, &integration, TrustScope::Stack, true, true);
        let stack: StackId = "net".parse().unwrap();
        let plan = plan(&subject, &[(stack, vec![Phase::Write])], "n0nce");
        for p in &plan.probes {
            let safe = if p.expect == Expect::Allowed {
                Answer::Allowed
            } else {
                Answer::Denied
            };
            assert_eq!(judge(p, &safe, &role), None, "{}", p.name);
            let unsafe_ = if p.expect == Expect::Allowed {
                Answer::Denied
            } else {
                Answer::Allowed
            };
            assert!(judge(p, &unsafe_, &role).is_some(), "{}", p.name);
            assert!(judge(p, &Answer::Error("Throttling: x".into()), &role).is_some());
        }
        let find = |name: &str| plan.probes.iter().find(|p| p.name == name).unwrap();
        let wide = judge(
            find("deny:write:integration-around:plain"),
            &Answer::Allowed,
            &role,
        )
        .unwrap();
        assert!(wide.contains("another integration"), "{wide}");
        let canary = judge(find("canary:write:vend"), &Answer::Allowed, &role).unwrap();
        assert!(canary.contains("whole account"), "{canary}");
        assert!(canary.contains("sent as a vend is"), "{canary}");
        let open = judge(find("deny:no-external-id:plain"), &Answer::Allowed, &role).unwrap();
        assert!(open.contains("IfExists"), "{open}");
        // Tags follow the ID: a vend of the other integration's ID for this
        // stack and phase carries this stack and phase.
        let vend = find("deny:write:integration-around:vend");
        assert!(vend.tags.contains(&("deputy:stack".into(), "net".into())));
        assert!(vend.tags.contains(&("deputy:phase".into(), "write".into())));
        assert_eq!(vend.session_policies, Some(Phase::Write));
        let phase = find("deny:write:phase-same-length:vend");
        let tagged = &phase
            .tags
            .iter()
            .find(|(k, _)| k == "deputy:phase")
            .unwrap()
            .1;
        assert_eq!(tagged.len(), 5);
        assert_ne!(tagged, "write");
    }

    #[test]
    fn integration_scope_must_accept_other_stacks() {
        let role: RoleArn = "arn:aws:iam::123456789012:role/r".parse().unwrap();
        let account: AccountName = "acme".parse().unwrap();
        let integration = IntegrationId::generate();
        let subject = subject(
            &account,
            &integration,
            TrustScope::Integration,
            false,
            false,
        );
        let plan = plan(&subject, &[("a".parse().unwrap(), vec![Phase::Read])], "n");
        let scope = plan
            .probes
            .iter()
            .find(|p| p.name == "scope:read:stack-around")
            .unwrap();
        let exact = judge(scope, &Answer::Denied, &role).unwrap();
        assert!(exact.contains("declares trust_scope"), "{exact}");
        let answers = [(scope, Answer::Allowed)];
        assert_eq!(found_scope(&answers), TrustScope::Integration);
        assert!(
            scope.tags.is_empty() && !scope.source_identity,
            "sent as this integration's vends are"
        );
    }
}

//! The audit trail's words: every action deputy records and the outcomes
//! that are not a problem code, named once here so that the places that
//! write an event and the filters that offer them as a list (the console's
//! audit filter) cannot drift.

pub const SPACE_CREATE: &str = "space.create";
pub const SPACE_UPDATE: &str = "space.update";
pub const SPACE_DELETE: &str = "space.delete";
pub const STACK_CREATE: &str = "stack.create";
pub const STACK_UPDATE: &str = "stack.update";
pub const STACK_DELETE: &str = "stack.delete";
pub const INTEGRATION_CREATE: &str = "integration.create";
pub const INTEGRATION_UPDATE: &str = "integration.update";
pub const INTEGRATION_DELETE: &str = "integration.delete";
pub const INTEGRATION_VERIFY: &str = "integration.verify";
pub const INTEGRATION_REVERIFY: &str = "integration.reverify";
pub const INTEGRATION_WORKER_VERIFICATION: &str = "integration.worker_verification";
pub const INTEGRATION_VERIFICATION_EXPIRED: &str = "integration.verification_expired";
pub const ATTACHMENT_CREATE: &str = "attachment.create";
pub const ATTACHMENT_UPDATE: &str = "attachment.update";
pub const ATTACHMENT_DELETE: &str = "attachment.delete";
pub const ATTACHMENT_HANDOVER: &str = "attachment.handover";
pub const KEY_CREATE: &str = "key.create";
pub const KEY_REVOKE: &str = "key.revoke";
pub const KEY_RECOVER: &str = "key.recover";
pub const RUNNER_TRUST_CREATE: &str = "runner_trust.create";
pub const RUNNER_TRUST_UPDATE: &str = "runner_trust.update";
pub const RUNNER_TRUST_DELETE: &str = "runner_trust.delete";
pub const CREDENTIALS_ISSUE: &str = "credentials.issue";
pub const AUTH_FAILED: &str = "auth.failed";
pub const CONSOLE_SIGN_IN: &str = "console.sign_in";
pub const CONSOLE_SIGN_OUT: &str = "console.sign_out";

/// Every action, grouped by what it is about.
pub const ACTIONS: [&str; 27] = [
    SPACE_CREATE,
    SPACE_UPDATE,
    SPACE_DELETE,
    STACK_CREATE,
    STACK_UPDATE,
    STACK_DELETE,
    INTEGRATION_CREATE,
    INTEGRATION_UPDATE,
    INTEGRATION_DELETE,
    INTEGRATION_VERIFY,
    INTEGRATION_REVERIFY,
    INTEGRATION_WORKER_VERIFICATION,
    INTEGRATION_VERIFICATION_EXPIRED,
    ATTACHMENT_CREATE,
    ATTACHMENT_UPDATE,
    ATTACHMENT_DELETE,
    ATTACHMENT_HANDOVER,
    KEY_CREATE,
    KEY_REVOKE,
    KEY_RECOVER,
    RUNNER_TRUST_CREATE,
    RUNNER_TRUST_UPDATE,
    RUNNER_TRUST_DELETE,
    CREDENTIALS_ISSUE,
    AUTH_FAILED,
    CONSOLE_SIGN_IN,
    CONSOLE_SIGN_OUT,
];

/// The outcome of what went as asked.
pub const OK: &str = "ok";
/// A verification the broker stopped in the middle of (it restarted).
pub const INTERRUPTED: &str = "interrupted";
/// A worker's verification older than the re-verification interval.
pub const EXPIRED: &str = "expired";

/// The outcomes besides the problem codes of refusals
/// (`wire::ProblemCode::ALL`).
pub const OUTCOMES: [&str; 3] = [OK, INTERRUPTED, EXPIRED];

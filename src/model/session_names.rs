//! What deputy names a run's AWS session, within what STS accepts: role
//! session names (CloudTrail shows them, so runs are traceable by their run
//! id), SourceIdentity and session tag values. Pure rules: vends and
//! verification probes both name sessions with them.

use super::secret::sha256_hex;

/// A RoleSessionName from a run id: STS's charset `[\w+=,.@-]`, 2 to 64
/// characters. Other characters become `-`; a longer id is cut and given a
/// short hash of the whole id, so two long ids that share a prefix still get
/// different names. The same run id always gives the same name.
pub fn session_name(run_id: &str) -> String {
    let mut name: String = run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.len() < 2 {
        name = format!("run-{name}");
    }
    if name.len() > 64 {
        let hash = sha256_hex(run_id, 4);
        name = format!("{}-{hash}", &name[..55]);
    }
    name
}

/// A SourceIdentity from a run id. STS's rules for it are those of a
/// session name (`[\w+=,.@-]`, 2 to 64 characters; the reserved `aws:`
/// prefix cannot occur in that charset), so it is the session name: one
/// run shows the same value in both places in CloudTrail.
pub fn source_identity(run_id: &str) -> String {
    session_name(run_id)
}

/// A session tag value: up to 256 characters of letters, digits, spaces and
/// `_.:/=+-@`; others become `-`.
pub fn tag_value(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(256)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_fit_sts_rules() {
        assert_eq!(session_name("run-42"), "run-42");
        assert_eq!(
            session_name("github/actions#17 retry"),
            "github-actions-17-retry"
        );
        assert_eq!(session_name("x"), "run-x");
        let long = "a".repeat(100);
        let name = session_name(&long);
        assert_eq!(name.len(), 64);
        assert_eq!(name, session_name(&long), "deterministic");
        assert_ne!(
            name,
            session_name(&format!("{long}b")),
            "distinct for distinct ids"
        );
    }

    #[test]
    fn tag_values_are_sanitized() {
        assert_eq!(tag_value("prod-net"), "prod-net");
        assert_eq!(tag_value("a#b"), "a-b");
        assert_eq!(tag_value(&"x".repeat(300)).len(), 256);
    }
}

//! Who the broker is in AWS, and what that means for session lengths.

/// The principal customer trust policies must name, from the ARN
/// GetCallerIdentity returns: an assumed-role session
/// (`arn:aws:sts::A:assumed-role/NAME/SESSION`) becomes its role
/// (`arn:aws:iam::A:role/NAME`). STS drops a role's path from session ARNs,
/// so a role with a path needs the principal given explicitly.
pub fn principal_from_caller(caller_arn: &str) -> String {
    let parts: Vec<&str> = caller_arn.splitn(6, ':').collect();
    if parts.len() == 6
        && parts[2] == "sts"
        && let Some(rest) = parts[5].strip_prefix("assumed-role/")
    {
        let role = rest.split('/').next().unwrap_or_default();
        return format!("arn:{}:iam::{}:role/{role}", parts[1], parts[4]);
    }
    caller_arn.to_string()
}

/// Whether the broker runs on role credentials. Then every AssumeRole it
/// makes is role chaining, which AWS caps at one hour whatever the role's
/// maximum session duration says.
pub fn is_role_session(caller_arn: &str) -> bool {
    caller_arn.contains(":assumed-role/")
}

/// AWS's limit for sessions obtained by role chaining.
pub const ROLE_CHAINING_MAX_SECONDS: i32 = 3600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumed_roles_become_roles() {
        assert_eq!(
            principal_from_caller("arn:aws:sts::123456789012:assumed-role/deputy/i-0abc"),
            "arn:aws:iam::123456789012:role/deputy"
        );
        assert_eq!(
            principal_from_caller("arn:aws-cn:sts::123456789012:assumed-role/deputy/s"),
            "arn:aws-cn:iam::123456789012:role/deputy"
        );
        assert_eq!(
            principal_from_caller("arn:aws:iam::123456789012:user/ci"),
            "arn:aws:iam::123456789012:user/ci"
        );
        assert!(is_role_session(
            "arn:aws:sts::123456789012:assumed-role/deputy/s"
        ));
        assert!(!is_role_session("arn:aws:iam::123456789012:user/ci"));
    }
}

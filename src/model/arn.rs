//! IAM ARNs: the role an integration assumes, and the principal a customer's
//! trust policy must allow.
//!
//! Both are checked when configuration is read, not when AWS answers,
//! because a typo in an ARN otherwise surfaces as an AccessDenied minutes
//! later, with nothing pointing back at the typo.

use std::fmt;
use std::str::FromStr;

use super::Invalid;

/// Partitions where IAM roles exist and STS answers.
const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// The fields of an IAM ARN shared by roles, users and account roots.
#[derive(Clone, Debug, PartialEq, Eq)]
struct IamArn {
    partition: String,
    account_id: String,
    /// `role/...`, `user/...` or `root`.
    resource: String,
}

fn parse_iam(s: &str, expected: &str) -> Result<IamArn, Invalid> {
    let example = "arn:aws:iam::123456789012:role/deputy-runner";
    let bad = |why: String| {
        Invalid::new(format!(
            "{s:?} is not {expected}: {why} (for example {example:?})"
        ))
    };
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(bad(
            "an ARN has six ':'-separated fields starting with \"arn\"".into(),
        ));
    }
    let (partition, service, region, account_id, resource) =
        (parts[1], parts[2], parts[3], parts[4], parts[5]);
    if !PARTITIONS.contains(&partition) {
        return Err(bad(format!(
            "partition {partition:?} is not one of {}",
            PARTITIONS.join(", ")
        )));
    }
    if service != "iam" {
        return Err(bad(format!(
            "service is {service:?}, IAM ARNs have \"iam\""
        )));
    }
    if !region.is_empty() {
        return Err(bad(format!(
            "IAM ARNs have an empty region field, not {region:?}"
        )));
    }
    if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("account id {account_id:?} is not 12 digits")));
    }
    Ok(IamArn {
        partition: partition.to_string(),
        account_id: account_id.to_string(),
        resource: resource.to_string(),
    })
}

/// IAM's rule for role and user names, and for path segments.
fn valid_iam_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// `path/name` after `role/` or `user/`: the name is the last segment, the
/// path (possibly empty) the segments before it.
fn valid_path_and_name(rest: &str, max_name: usize) -> bool {
    let segments: Vec<&str> = rest.split('/').collect();
    let (name, path) = segments
        .split_last()
        .expect("split yields at least one item");
    valid_iam_name(name, max_name) && path.iter().all(|seg| valid_iam_name(seg, 512))
}

/// The ARN of an IAM role that deputy assumes for a stack.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleArn {
    text: String,
    partition: String,
    account_id: String,
}

impl RoleArn {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn partition(&self) -> &str {
        &self.partition
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The role's name: the last segment after `role/`.
    pub fn name(&self) -> &str {
        self.text.rsplit('/').next().unwrap_or_default()
    }

    /// The role's IAM path, `/` or `/a/b/`.
    pub fn path(&self) -> String {
        let rest = self.text.split_once(":role/").map_or("", |(_, r)| r);
        match rest.rsplit_once('/') {
            Some((path, _)) => format!("/{path}/"),
            None => "/".to_string(),
        }
    }
}

impl FromStr for RoleArn {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        let arn = parse_iam(s, "an IAM role ARN")?;
        let ok = arn
            .resource
            .strip_prefix("role/")
            .is_some_and(|rest| valid_path_and_name(rest, 64));
        if !ok {
            return Err(Invalid::new(format!(
                "{s:?} is not an IAM role ARN: the resource must be \"role/NAME\" or \
                 \"role/PATH/NAME\" with names of letters, digits and +=,.@_- \
                 (for example \"arn:aws:iam::123456789012:role/deputy-runner\")"
            )));
        }
        Ok(RoleArn {
            text: s.to_string(),
            partition: arn.partition,
            account_id: arn.account_id,
        })
    }
}

impl TryFrom<String> for RoleArn {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        s.parse()
    }
}

impl From<RoleArn> for String {
    fn from(arn: RoleArn) -> String {
        arn.text
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What kind of principal an ARN names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    Role,
    User,
    /// `arn:...:root`: in a trust policy it stands for every principal of
    /// the account that its own policies allow, so a broker whose
    /// principal is an account makes every such principal a deputy.
    Account,
}

/// An AWS principal that a trust policy can name: a role, a user, or an
/// account root. deputy's own identity is one of these.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PrincipalArn(String);

text_newtype!(PrincipalArn);

impl PrincipalArn {
    pub fn kind(&self) -> PrincipalKind {
        let resource = self.0.splitn(6, ':').nth(5).unwrap_or_default();
        if resource.starts_with("role/") {
            PrincipalKind::Role
        } else if resource.starts_with("user/") {
            PrincipalKind::User
        } else {
            PrincipalKind::Account
        }
    }
}

impl FromStr for PrincipalArn {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        let arn = parse_iam(s, "an IAM principal ARN")?;
        let ok = arn.resource == "root"
            || arn
                .resource
                .strip_prefix("role/")
                .is_some_and(|rest| valid_path_and_name(rest, 64))
            || arn
                .resource
                .strip_prefix("user/")
                .is_some_and(|rest| valid_path_and_name(rest, 64));
        if !ok {
            return Err(Invalid::new(format!(
                "{s:?} is not an IAM principal ARN: the resource must be \"root\", \
                 \"role/NAME\" or \"user/NAME\" (for example \
                 \"arn:aws:iam::123456789012:role/deputy-broker\")"
            )));
        }
        Ok(PrincipalArn(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        for ok in [
            "arn:aws:iam::123456789012:role/deputy",
            "arn:aws-cn:iam::123456789012:role/path/to/deputy",
            "arn:aws-us-gov:iam::123456789012:role/a+b=c,d.e@f_g-h",
        ] {
            let arn: RoleArn = ok.parse().unwrap();
            assert_eq!(arn.account_id(), "123456789012");
        }
        let cases = [
            (
                "arn:aws:iam::123456789012:user/bob",
                "resource must be \"role/NAME\"",
            ),
            ("arn:aws:s3:::bucket", "service is \"s3\""),
            ("arn:aws:sts::123456789012:role/x", "service is \"sts\""),
            (
                "arn:aws:iam::12345:role/x",
                "account id \"12345\" is not 12 digits",
            ),
            (
                "arn:aws-eu:iam::123456789012:role/x",
                "partition \"aws-eu\" is not one of",
            ),
            ("arn:aws:iam:us-east-1:123456789012:role/x", "empty region"),
            ("role/x", "six ':'-separated fields"),
            ("arn:aws:iam::123456789012:role/", "resource must be"),
            (
                "arn:aws:iam::123456789012:role/has space",
                "resource must be",
            ),
        ];
        for (bad, expect) in cases {
            let err = bad.parse::<RoleArn>().unwrap_err().to_string();
            assert!(err.contains(expect), "{bad}: {err}");
        }
    }

    #[test]
    fn principal_arns() {
        for ok in [
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::123456789012:user/ci",
            "arn:aws:iam::123456789012:role/broker",
        ] {
            assert!(ok.parse::<PrincipalArn>().is_ok(), "{ok}");
        }
        let kind = |s: &str| s.parse::<PrincipalArn>().unwrap().kind();
        assert_eq!(
            kind("arn:aws:iam::123456789012:root"),
            PrincipalKind::Account
        );
        assert_eq!(
            kind("arn:aws:iam::123456789012:user/ci"),
            PrincipalKind::User
        );
        assert_eq!(
            kind("arn:aws:iam::123456789012:role/a/b"),
            PrincipalKind::Role
        );
        assert!(
            "arn:aws:iam::123456789012:group/x"
                .parse::<PrincipalArn>()
                .is_err()
        );
    }
}

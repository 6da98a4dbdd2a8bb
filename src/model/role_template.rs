//! Role templates: a complete definition of an integration's IAM role, in
//! the form a customer deploys it (CloudFormation, Terraform, or plain JSON
//! for their own tooling). The trust policy comes from `trust_policy`; this
//! module adds what makes it a role: the name and path from the role ARN,
//! the maximum session duration the integration needs, managed policies,
//! and optionally a Terraform state bucket and lock table with the inline
//! policy the role needs for them.
//!
//! Output is deterministic (same inputs, same bytes) so a template can be
//! checked in and diffed.

use std::fmt::Write as _;
use std::str::FromStr;

use serde::Serialize;
use serde_json::{Value, json};

use super::{Invalid, Region, RoleArn};

/// The shapes a template comes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A CloudFormation template (JSON).
    CloudFormation,
    /// A Terraform configuration for the `hashicorp/aws` provider.
    Terraform,
    /// The role's definition as plain JSON.
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::CloudFormation => "cloudformation",
            Format::Terraform => "terraform",
            Format::Json => "json",
        }
    }

    /// A file name for the rendered template.
    pub fn file_name(self, role: &str) -> String {
        match self {
            Format::CloudFormation => format!("{role}.cfn.json"),
            Format::Terraform => format!("{role}.tf"),
            Format::Json => format!("{role}.json"),
        }
    }
}

impl FromStr for Format {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "cloudformation" => Ok(Format::CloudFormation),
            "terraform" => Ok(Format::Terraform),
            "json" => Ok(Format::Json),
            other => Err(Invalid::new(format!(
                "format is {other:?}: use \"cloudformation\", \"terraform\" or \"json\""
            ))),
        }
    }
}

/// A Terraform state backend the role gets access to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StateBackend {
    pub bucket: String,
    /// A DynamoDB lock table; Terraform 1.10+ can lock in S3 instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_table: Option<String>,
}

/// What goes into a role template.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoleTemplate {
    pub role_name: String,
    pub path: String,
    pub description: String,
    /// At least one hour (IAM's default) and at least the integration's
    /// session duration, so vends are not refused.
    pub max_session_duration: i64,
    pub assume_role_policy: Value,
    pub managed_policy_arns: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<StateBackend>,
    /// The inline policy giving the role the state backend, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_policy: Option<Value>,
}

/// Name of the inline policy for the state backend.
const STATE_POLICY_NAME: &str = "deputy-terraform-state";

impl RoleTemplate {
    /// `trust_policy` is the document deputy emits for the integration;
    /// the other inputs are checked here with IAM's, S3's and DynamoDB's
    /// naming rules.
    pub fn new(
        role: &RoleArn,
        description: String,
        session_seconds: i64,
        trust_policy: &str,
        managed_policy_arns: Vec<String>,
        state: Option<StateBackend>,
    ) -> Result<RoleTemplate, Invalid> {
        for arn in &managed_policy_arns {
            check_managed_policy_arn(arn)?;
        }
        if let Some(s) = &state {
            check_bucket_name(&s.bucket)?;
            if let Some(t) = &s.lock_table {
                check_table_name(t)?;
            }
        }
        let assume_role_policy: Value = serde_json::from_str(trust_policy).map_err(|e| {
            Invalid::new(format!(
                "the trust policy is not JSON ({e}); this is a bug in deputy"
            ))
        })?;
        let partition = role.partition();
        let state_policy = state.as_ref().map(|s| state_policy(partition, role, s));
        Ok(RoleTemplate {
            role_name: role.name().to_string(),
            path: role.path(),
            description,
            max_session_duration: session_seconds.max(3600),
            assume_role_policy,
            managed_policy_arns,
            state,
            state_policy,
        })
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::CloudFormation => self.cloudformation(),
            Format::Terraform => self.terraform(),
            Format::Json => pretty(&serde_json::to_value(self).expect("template serializes")),
        }
    }

    fn cloudformation(&self) -> String {
        let mut role = json!({
            "RoleName": self.role_name,
            "Path": self.path,
            "Description": self.description,
            "MaxSessionDuration": self.max_session_duration,
            "AssumeRolePolicyDocument": self.assume_role_policy,
        });
        if !self.managed_policy_arns.is_empty() {
            role["ManagedPolicyArns"] = json!(self.managed_policy_arns);
        }
        if let Some(policy) = &self.state_policy {
            role["Policies"] =
                json!([{ "PolicyName": STATE_POLICY_NAME, "PolicyDocument": policy }]);
        }
        let mut resources = serde_json::Map::new();
        let mut outputs = serde_json::Map::new();
        resources.insert(
            "Role".into(),
            json!({ "Type": "AWS::IAM::Role", "Properties": role }),
        );
        outputs.insert(
            "RoleArn".into(),
            json!({ "Description": "The role deputy assumes.", "Value": { "Fn::GetAtt": ["Role", "Arn"] } }),
        );
        if let Some(state) = &self.state {
            // State outlives the role: deleting the stack keeps it.
            resources.insert(
                "StateBucket".into(),
                json!({
                    "Type": "AWS::S3::Bucket",
                    "DeletionPolicy": "Retain",
                    "UpdateReplacePolicy": "Retain",
                    "Properties": {
                        "BucketName": state.bucket,
                        "VersioningConfiguration": { "Status": "Enabled" },
                        "PublicAccessBlockConfiguration": {
                            "BlockPublicAcls": true,
                            "BlockPublicPolicy": true,
                            "IgnorePublicAcls": true,
                            "RestrictPublicBuckets": true
                        },
                        "BucketEncryption": {
                            "ServerSideEncryptionConfiguration": [
                                { "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }
                            ]
                        }
                    }
                }),
            );
            outputs.insert(
                "StateBucket".into(),
                json!({ "Description": "The Terraform state bucket.", "Value": { "Ref": "StateBucket" } }),
            );
            if let Some(table) = &state.lock_table {
                resources.insert(
                    "LockTable".into(),
                    json!({
                        "Type": "AWS::DynamoDB::Table",
                        "DeletionPolicy": "Retain",
                        "UpdateReplacePolicy": "Retain",
                        "Properties": {
                            "TableName": table,
                            "BillingMode": "PAY_PER_REQUEST",
                            "AttributeDefinitions": [{ "AttributeName": "LockID", "AttributeType": "S" }],
                            "KeySchema": [{ "AttributeName": "LockID", "KeyType": "HASH" }]
                        }
                    }),
                );
                outputs.insert(
                    "LockTable".into(),
                    json!({ "Description": "The Terraform lock table.", "Value": { "Ref": "LockTable" } }),
                );
            }
        }
        pretty(&json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": self.description,
            "Resources": resources,
            "Outputs": outputs,
        }))
    }

    fn terraform(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}", self.description);
        out.push_str(
            "# Generated by deputy (`deputy role-template`). Apply it in the role's account.\n\n",
        );
        out.push_str(
            "terraform {\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      \
             version = \">= 5.0\"\n    }\n  }\n}\n\n",
        );
        let _ = write!(
            out,
            "resource \"aws_iam_role\" \"deputy\" {{\n{}\n\n  assume_role_policy = {}\n}}\n",
            aligned(&[
                ("name", hcl_string(&self.role_name)),
                ("path", hcl_string(&self.path)),
                ("description", hcl_string(&self.description)),
                (
                    "max_session_duration",
                    self.max_session_duration.to_string(),
                ),
            ]),
            heredoc(&self.assume_role_policy),
        );
        if !self.managed_policy_arns.is_empty() {
            let list: Vec<String> = self
                .managed_policy_arns
                .iter()
                .map(|a| format!("    {},", hcl_string(a)))
                .collect();
            let _ = write!(
                out,
                "\nresource \"aws_iam_role_policy_attachment\" \"deputy\" {{\n  for_each = toset([\n{}\n  ])\n\n{}\n}}\n",
                list.join("\n"),
                aligned(&[
                    ("role", "aws_iam_role.deputy.name".into()),
                    ("policy_arn", "each.value".into()),
                ]),
            );
        }
        if let (Some(state), Some(policy)) = (&self.state, &self.state_policy) {
            let bucket = hcl_string(&state.bucket);
            let _ = write!(
                out,
                "\nresource \"aws_s3_bucket\" \"state\" {{\n  bucket = {bucket}\n\n  lifecycle {{\n    \
                 prevent_destroy = true\n  }}\n}}\n\
                 \nresource \"aws_s3_bucket_versioning\" \"state\" {{\n  bucket = aws_s3_bucket.state.id\n\n  \
                 versioning_configuration {{\n    status = \"Enabled\"\n  }}\n}}\n\
                 \nresource \"aws_s3_bucket_public_access_block\" \"state\" {{\n{}\n}}\n\
                 \nresource \"aws_s3_bucket_server_side_encryption_configuration\" \"state\" {{\n  \
                 bucket = aws_s3_bucket.state.id\n\n  rule {{\n    apply_server_side_encryption_by_default {{\n      \
                 sse_algorithm = \"AES256\"\n    }}\n  }}\n}}\n",
                aligned(&[
                    ("bucket", "aws_s3_bucket.state.id".into()),
                    ("block_public_acls", "true".into()),
                    ("block_public_policy", "true".into()),
                    ("ignore_public_acls", "true".into()),
                    ("restrict_public_buckets", "true".into()),
                ]),
            );
            if let Some(table) = &state.lock_table {
                let _ = write!(
                    out,
                    "\nresource \"aws_dynamodb_table\" \"lock\" {{\n{}\n\n  attribute {{\n{}\n  }}\n}}\n",
                    aligned(&[
                        ("name", hcl_string(table)),
                        ("billing_mode", "\"PAY_PER_REQUEST\"".into()),
                        ("hash_key", "\"LockID\"".into()),
                    ]),
                    aligned(&[("name", "\"LockID\"".into()), ("type", "\"S\"".into())])
                        .lines()
                        .map(|l| format!("  {l}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
            }
            let _ = write!(
                out,
                "\nresource \"aws_iam_role_policy\" \"state\" {{\n{}\n\n  policy = {}\n}}\n",
                aligned(&[
                    ("name", hcl_string(STATE_POLICY_NAME)),
                    ("role", "aws_iam_role.deputy.id".into()),
                ]),
                heredoc(policy),
            );
        }
        out.push_str("\noutput \"role_arn\" {\n  value = aws_iam_role.deputy.arn\n}\n");
        out
    }
}

/// The inline policy for a Terraform S3 backend: list the bucket, read and
/// write state objects (and S3 lock files), and the lock table's items.
fn state_policy(partition: &str, role: &RoleArn, state: &StateBackend) -> Value {
    let bucket = format!("arn:{partition}:s3:::{}", state.bucket);
    let mut statements = vec![
        json!({ "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket }),
        json!({
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": format!("{bucket}/*")
        }),
    ];
    if let Some(table) = &state.lock_table {
        statements.push(json!({
            "Effect": "Allow",
            "Action": ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
            "Resource": format!("arn:{partition}:dynamodb:*:{}:table/{table}", role.account_id())
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON serializes");
    s.push('\n');
    s
}

/// A JSON document as an indented heredoc: `terraform fmt` leaves its body
/// alone, and the JSON reads as AWS shows it.
fn heredoc(v: &Value) -> String {
    let body: Vec<String> = serde_json::to_string_pretty(v)
        .expect("JSON serializes")
        .lines()
        .map(|l| format!("    {l}"))
        .collect();
    format!("<<-EOT\n{}\n  EOT", body.join("\n"))
}

/// Attributes as `terraform fmt` writes them: two spaces in, `=` aligned.
fn aligned(attrs: &[(&str, String)]) -> String {
    let width = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    attrs
        .iter()
        .map(|(k, v)| format!("  {k:<width$} = {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An HCL string literal: JSON's escapes, plus `${` and `%{` escaped so
/// text is never read as a template.
fn hcl_string(s: &str) -> String {
    serde_json::to_string(s)
        .expect("string serializes")
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// `arn:<partition>:iam::aws:policy/...` (AWS managed) or
/// `arn:<partition>:iam::<12 digits>:policy/...` (customer managed).
pub fn check_managed_policy_arn(arn: &str) -> Result<(), Invalid> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && ["aws", "aws-cn", "aws-us-gov"].contains(&parts[1])
        && parts[2] == "iam"
        && parts[3].is_empty()
        && (parts[4] == "aws"
            || (parts[4].len() == 12 && parts[4].bytes().all(|b| b.is_ascii_digit())))
        && parts[5].strip_prefix("policy/").is_some_and(|rest| {
            !rest.is_empty()
                && !rest.ends_with('/')
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
        });
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(format!(
            "{arn:?} is not a managed policy ARN: use \"arn:aws:iam::aws:policy/NAME\" (AWS managed) \
             or \"arn:aws:iam::123456789012:policy/NAME\" (your own)"
        )))
    }
}

/// S3's rules for a general purpose bucket name.
pub fn check_bucket_name(name: &str) -> Result<(), Invalid> {
    let edge = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let ok = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && edge(name.bytes().next())
        && edge(name.bytes().last())
        && !name.contains("..")
        && !name.starts_with("xn--")
        && name.parse::<std::net::Ipv4Addr>().is_err();
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(format!(
            "state_bucket {name:?} is not an S3 bucket name: 3 to 63 lowercase letters, digits, dots \
             and hyphens, starting and ending with a letter or digit"
        )))
    }
}

/// DynamoDB's rules for a table name.
pub fn check_table_name(name: &str) -> Result<(), Invalid> {
    let ok = (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(format!(
            "lock_table {name:?} is not a DynamoDB table name: 3 to 255 letters, digits, '_', '.' and '-'"
        )))
    }
}

/// The console link that opens CloudFormation's quick-create page for a
/// template the user hosts at `template_url` (HTTPS, usually S3).
pub fn quick_create_url(
    role: &RoleArn,
    region: &Region,
    template_url: &str,
    stack_name: &str,
) -> Result<String, Invalid> {
    let parsed = url::Url::parse(template_url)
        .map_err(|e| Invalid::new(format!("template_url {template_url:?} is not a URL ({e})")))?;
    if parsed.scheme() != "https" {
        return Err(Invalid::new(format!(
            "template_url {template_url:?} must be an https URL: CloudFormation reads templates from \
             HTTPS (usually an S3 object URL)"
        )));
    }
    let console = match role.partition() {
        "aws-cn" => "console.amazonaws.cn",
        "aws-us-gov" => "console.amazonaws-us-gov.com",
        _ => "console.aws.amazon.com",
    };
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("templateURL", template_url)
        .append_pair("stackName", stack_name)
        .finish();
    Ok(format!(
        "https://{region}.{console}/cloudformation/home?region={region}#/stacks/quickcreate?{query}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(state: Option<StateBackend>) -> RoleTemplate {
        let role: RoleArn = "arn:aws:iam::123456789012:role/ci/deploy".parse().unwrap();
        RoleTemplate::new(
            &role,
            "deputy role".into(),
            7200,
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            state,
        )
        .unwrap()
    }

    #[test]
    fn role_fields_come_from_the_arn_and_the_integration() {
        let t = template(None);
        assert_eq!((t.role_name.as_str(), t.path.as_str()), ("deploy", "/ci/"));
        assert_eq!(t.max_session_duration, 7200);
        let cfn: Value = serde_json::from_str(&t.render(Format::CloudFormation)).unwrap();
        let props = &cfn["Resources"]["Role"]["Properties"];
        assert_eq!(props["MaxSessionDuration"], 7200);
        assert_eq!(
            props["ManagedPolicyArns"][0],
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        );
        assert!(cfn["Resources"].get("StateBucket").is_none());
    }

    #[test]
    fn a_state_backend_adds_bucket_table_and_policy() {
        let t = template(Some(StateBackend {
            bucket: "acme-tf-state".into(),
            lock_table: Some("acme-tf-lock".into()),
        }));
        let cfn: Value = serde_json::from_str(&t.render(Format::CloudFormation)).unwrap();
        assert_eq!(
            cfn["Resources"]["LockTable"]["Type"],
            "AWS::DynamoDB::Table"
        );
        let policy = &cfn["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"];
        assert_eq!(
            policy["Statement"][1]["Resource"],
            "arn:aws:s3:::acme-tf-state/*"
        );
        assert_eq!(
            policy["Statement"][2]["Resource"],
            "arn:aws:dynamodb:*:123456789012:table/acme-tf-lock"
        );
        let tf = t.render(Format::Terraform);
        for has in [
            "resource \"aws_dynamodb_table\" \"lock\"",
            "  billing_mode = \"PAY_PER_REQUEST\"",
            "  max_session_duration = 7200",
            "  assume_role_policy = <<-EOT\n",
        ] {
            assert!(tf.contains(has), "{has}\n{tf}");
        }
    }

    #[test]
    fn names_are_checked() {
        for bad in ["ab", "Acme", "acme..state", "-acme", "192.168.1.1"] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
        assert!(check_table_name("a b c").is_err());
        for bad in [
            "arn:aws:iam::aws:role/x",
            "arn:aws:iam::12345:policy/x",
            "arn:aws:s3:::x",
        ] {
            assert!(check_managed_policy_arn(bad).is_err(), "{bad}");
        }
        assert!(check_managed_policy_arn("arn:aws-us-gov:iam::123456789012:policy/team/x").is_ok());
        assert_eq!(hcl_string("a ${b} %{c}"), r#""a $${b} %%{c}""#);
    }

    #[test]
    fn quick_create_links_encode_the_template_url() {
        let role: RoleArn = "arn:aws:iam::123456789012:role/deploy".parse().unwrap();
        let region: Region = "eu-west-1".parse().unwrap();
        let url = quick_create_url(
            &role,
            &region,
            "https://b.s3.amazonaws.com/t.json?v=1&x=2",
            "deputy-deploy",
        )
        .unwrap();
        assert_eq!(
            url,
            "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/quickcreate?templateURL=https%3A%2F%2Fb.s3.amazonaws.com%2Ft.json%3Fv%3D1%26x%3D2&stackName=deputy-deploy"
        );
        assert!(quick_create_url(&role, &region, "http://x/t.json", "s").is_err());
    }
}

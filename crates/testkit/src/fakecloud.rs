//! fakecloud, an AWS emulator no one here wrote, as a child process on a
//! loopback port: its STS evaluates role trust policies with IAM's rules,
//! so these tests check deputy's understanding of IAM against someone
//! else's. `scripts/setup` installs it (cached outside the checkout).
//!
//! IAM is set up with plain Query API calls as the emulator's root
//! (fakecloud looks up the access key in the Authorization header and does
//! not check signatures unless asked to), the way an administrator would
//! create roles; deputy itself talks to it only through the AWS SDK, as a
//! real IAM user.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use std::time::Duration;

pub const ACCOUNT: &str = "123456789012";

pub struct Fakecloud {
    child: Child,
    pub endpoint: String,
    http: reqwest::Client,
}

/// An IAM user's access key, for a process that must act as that user.
pub struct AccessKey {
    pub arn: String,
    pub id: String,
    pub secret: String,
}

fn binary() -> PathBuf {
    let path = crate::workspace().join("target/tools/bin/fakecloud");
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup (it installs fakecloud 0.51.0, once, outside the checkout)",
        path.display()
    );
    path
}

/// The text of the first `<tag>...</tag>` in an XML answer.
pub fn xml_field(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..start + end].to_string())
}

impl Fakecloud {
    /// Starts fakecloud enforcing IAM's role trust policy length quota.
    pub fn start() -> Fakecloud {
        Self::start_with(&[])
    }

    /// With extra flags, e.g. `--iam strict` to evaluate identity and
    /// session policies on every call.
    pub fn start_with(args: &[&str]) -> Fakecloud {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(std::env::temp_dir().join(format!("fakecloud-{port}.log")))
            .unwrap();
        let child = Command::new(binary())
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args(["--enforce-quota", "iam/L-C07B4B0D", "--log-level", "warn"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start fakecloud");
        let endpoint = format!("http://127.0.0.1:{port}");
        let fc = Fakecloud {
            child,
            endpoint,
            http: reqwest::Client::new(),
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let up = healthy(port);
            if up {
                return fc;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "fakecloud did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// An IAM Query API call as the emulator's root; the answer's body, or
    /// AWS's error code and message.
    pub async fn iam(&self, action: &str, params: &[(&str, &str)]) -> Result<String, String> {
        self.query("test", "iam", "2010-05-08", action, params)
            .await
    }

    /// AssumeRole as the principal whose access key id is `key_id`,
    /// straight to the emulator's STS (no deputy in between): how the
    /// verification corpus plays the parties that could reach a role.
    pub async fn assume_as(&self, key_id: &str, params: &[(&str, &str)]) -> Result<String, String> {
        self.query(key_id, "sts", "2011-06-15", "AssumeRole", params)
            .await
    }

    /// A CloudFormation Query API call as the emulator's root.
    pub async fn cloudformation(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<String, String> {
        self.query("test", "cloudformation", "2010-05-15", action, params)
            .await
    }

    /// A Query API call to `service` (named in the credential scope, which
    /// is how fakecloud routes it) with the access key `key_id`.
    async fn query(
        &self,
        key_id: &str,
        service: &str,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<String, String> {
        let mut form = vec![("Action", action), ("Version", version)];
        form.extend_from_slice(params);
        let response = self
            .http
            .post(&self.endpoint)
            .header(
                "Authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential={key_id}/20260101/us-east-1/{service}/aws4_request, \
                     SignedHeaders=host, Signature=0"
                ),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&form)
                    .finish(),
            )
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let ok = response.status().is_success();
        let body = response.text().await.map_err(|e| e.to_string())?;
        if ok {
            Ok(body)
        } else {
            Err(format!(
                "{}: {}",
                xml_field(&body, "Code").unwrap_or_default(),
                xml_field(&body, "Message").unwrap_or(body)
            ))
        }
    }

    /// A user with an access key: deputy's broker runs as one, so its
    /// principal is a real, specific principal.
    pub async fn user(&self, name: &str) -> AccessKey {
        self.iam("CreateUser", &[("UserName", name)]).await.unwrap();
        let body = self
            .iam("CreateAccessKey", &[("UserName", name)])
            .await
            .unwrap();
        AccessKey {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            id: xml_field(&body, "AccessKeyId").unwrap(),
            secret: xml_field(&body, "SecretAccessKey").unwrap(),
        }
    }

    /// Creates a role with this trust policy (any JSON value); its ARN.
    pub async fn role(&self, name: &str, trust: &serde_json::Value) -> Result<String, String> {
        self.role_with(name, trust, 3600).await
    }

    pub async fn role_with(
        &self,
        name: &str,
        trust: &serde_json::Value,
        max_session: u32,
    ) -> Result<String, String> {
        let policy = trust.to_string();
        let max = max_session.to_string();
        self.iam(
            "CreateRole",
            &[
                ("RoleName", name),
                ("AssumeRolePolicyDocument", &policy),
                ("MaxSessionDuration", &max),
            ],
        )
        .await?;
        Ok(format!("arn:aws:iam::{ACCOUNT}:role/{name}"))
    }

    /// Replaces a role's trust policy, as a customer editing it would.
    pub async fn set_trust(&self, name: &str, trust: &serde_json::Value) -> Result<(), String> {
        let policy = trust.to_string();
        self.iam(
            "UpdateAssumeRolePolicy",
            &[("RoleName", name), ("PolicyDocument", &policy)],
        )
        .await
        .map(|_| ())
    }
}

/// `GET /_fakecloud/health` answers 200.
fn healthy(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    if conn
        .write_all(b"GET /_fakecloud/health HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    conn.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}

impl Drop for Fakecloud {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A trust policy with one Allow statement for `principal` and `extra`
/// merged into the statement (Condition, NotPrincipal, ...).
pub fn trust(principal: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut statement = serde_json::json!({
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
    });
    if let (Some(s), Some(e)) = (statement.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            if v.is_null() {
                s.remove(k);
            } else {
                s.insert(k.clone(), v.clone());
            }
        }
    }
    serde_json::json!({"Version": "2012-10-17", "Statement": [statement]})
}

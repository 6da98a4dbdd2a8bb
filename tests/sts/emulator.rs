//! The STS emulator (`tools/sts-emulator`) as a child process, and IAM
//! roles created in it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

/// The emulator process; it exits when its stdin closes (on drop).
pub struct Emulator {
    child: Child,
    pub endpoint: String,
}

impl Emulator {
    pub fn start() -> Emulator {
        let mut child = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tools/sts-emulator/sts_emulator.py"
            ))
            .arg("0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is needed for the STS emulator: run scripts/setup");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().unwrap_or_else(|_| {
            panic!("emulator did not start (is moto installed? run scripts/setup): {line:?}")
        });
        Emulator {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Creates a role trusting `principal`, with an optional ExternalId
    /// condition and an optional propagation delay.
    pub fn role(
        &self,
        name: &str,
        principal: &str,
        external_ids: &[String],
        delay_seconds: u32,
    ) -> String {
        let mut statement = serde_json::json!({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"});
        if !external_ids.is_empty() {
            statement["Condition"] =
                serde_json::json!({"StringEquals": {"sts:ExternalId": external_ids}});
        }
        let policy =
            serde_json::json!({"Version": "2012-10-17", "Statement": [statement]}).to_string();
        let tags = if delay_seconds > 0 {
            format!(
                "[{{'Key': 'deputy-emulator:assumable-after-seconds', 'Value': '{delay_seconds}'}}]"
            )
        } else {
            "[]".into()
        };
        let script = format!(
            "import boto3,sys\nc=boto3.client('iam',endpoint_url='{}',region_name='us-east-1',aws_access_key_id='AKIAEXAMPLEBROKER001',aws_secret_access_key='x')\nprint(c.create_role(RoleName='{name}',AssumeRolePolicyDocument=sys.stdin.read(),Tags={tags})['Role']['Arn'])",
            self.endpoint
        );
        let mut child = Command::new("python3")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(policy.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "create_role failed");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

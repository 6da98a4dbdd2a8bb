"""The emulator's enforcement on its own, through boto3 (run by
tests/sts via `python3 -m unittest`)."""

import json
import os
import subprocess
import sys
import time
import unittest

import boto3
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))


def trust(principal, external_id=None, actions=("sts:AssumeRole",)):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": list(actions)}
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class Enforcement(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "sts_emulator.py"), "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        port = int(cls.proc.stdout.readline())
        kw = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                  aws_access_key_id="AKIAEXAMPLEROOT00001", aws_secret_access_key="x")
        cls.iam = boto3.client("iam", **kw)
        cls.sts = boto3.client("sts", **kw)
        cls.me = cls.sts.get_caller_identity()["Arn"]
        cls.kw = kw

    @classmethod
    def tearDownClass(cls):
        cls.proc.stdin.close()
        cls.proc.wait(timeout=10)

    def role(self, name, policy, tags=()):
        return self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=policy, Tags=list(tags))["Role"]["Arn"]

    def assume(self, arn, **extra):
        return self.sts.assume_role(RoleArn=arn, RoleSessionName="test", **extra)

    def denied(self, arn, **extra):
        with self.assertRaises(ClientError) as e:
            self.assume(arn, **extra)
        self.assertEqual(e.exception.response["Error"]["Code"], "AccessDenied")

    def test_external_id_condition(self):
        arn = self.role("with-id", trust(self.me, "secret-1"))
        self.assume(arn, ExternalId="secret-1")
        self.denied(arn)
        self.denied(arn, ExternalId="secret-2")

    def test_no_condition_is_assumable_without_id(self):
        arn = self.role("open", trust(self.me))
        self.assume(arn)

    def test_other_principal(self):
        arn = self.role("foreign", trust("arn:aws:iam::999999999999:role/someone", "x1"))
        self.denied(arn, ExternalId="x1")

    def test_account_root_principal(self):
        account = self.me.split(":")[4]
        arn = self.role("rooted", trust(f"arn:aws:iam::{account}:root", "x1"))
        self.assume(arn, ExternalId="x1")

    def test_tag_session_required_for_tags(self):
        plain = self.role("untagged", trust(self.me, "t1"))
        tagged = self.role("tagged", trust(self.me, "t1", ("sts:AssumeRole", "sts:TagSession")))
        tags = [{"Key": "stack", "Value": "net"}]
        self.denied(plain, ExternalId="t1", Tags=tags)
        self.assume(tagged, ExternalId="t1", Tags=tags)

    def test_sessions_count_as_their_role(self):
        hop = self.role("hop", trust(self.me, "h1"))
        target = self.role("target", trust(hop, "h2"))
        creds = self.assume(hop, ExternalId="h1")["Credentials"]
        sts = boto3.client("sts", endpoint_url=self.kw["endpoint_url"], region_name="us-east-1",
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"])
        sts.assume_role(RoleArn=target, RoleSessionName="test", ExternalId="h2")
        self.denied(target, ExternalId="h2")

    def test_new_role_delay(self):
        arn = self.role("slow", trust(self.me, "d1"), [{"Key": "deputy-emulator:assumable-after-seconds", "Value": "2"}])
        self.denied(arn, ExternalId="d1")
        time.sleep(2.2)
        self.assume(arn, ExternalId="d1")

    def test_unknown_role(self):
        self.denied("arn:aws:iam::123456789012:role/nope", ExternalId="x1")


if __name__ == "__main__":
    unittest.main()

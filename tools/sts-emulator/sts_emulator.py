#!/usr/bin/env python3
"""An AWS STS and IAM emulator for deputy's tests that enforces role trust
policies.

moto serves STS and IAM on loopback but lets anyone assume any role, with
or without an External ID, which would make deputy's confused-deputy check
untestable. This wraps moto's AssumeRole with an evaluation of the role's
stored trust policy:

- an Allow statement for sts:AssumeRole whose Principal matches the caller
  (the caller's ARN; an assumed-role session counts as its role; an account
  root or bare account id matches every principal of that account; "*"
  matches anyone), and whose conditions hold;
- conditions StringEquals / StringLike (and their IfExists forms) on
  sts:ExternalId; a missing ExternalId fails a condition on it, any other
  condition key or operator denies (fail closed);
- when the request carries session tags, sts:TagSession must be allowed too;
- an explicit Deny that matches wins.

Test hook: a role tagged `deputy-emulator:assumable-after-seconds` = N
answers AccessDenied until N seconds after its creation, like a freshly
created IAM role.

Usage: sts_emulator.py PORT (0 picks a free port). The port is printed on
stdout's first line. Listens on 127.0.0.1 only, and exits when stdin closes,
so a crashed test never leaves it behind.
"""

import datetime
import fnmatch
import json
import sys
import threading

from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sts.exceptions import STSClientError
from moto.sts.responses import TokenResponse
from werkzeug.serving import make_server

DELAY_TAG = "deputy-emulator:assumable-after-seconds"


class Denied(Exception):
    pass


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def role_arn_of(caller_arn):
    """arn:aws:sts::A:assumed-role/NAME/SESSION -> (account, role NAME)."""
    parts = caller_arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        return parts[4], parts[5].split("/")[1]
    return None


def principal_matches(trusted, caller_arn, caller_account):
    for p in trusted:
        if p == "*" or p == caller_account or p == f"arn:aws:iam::{caller_account}:root":
            return True
        if p == caller_arn:
            return True
        session = role_arn_of(caller_arn)
        if session and p.startswith(f"arn:aws:iam::{session[0]}:role/") and p.rsplit("/", 1)[-1] == session[1]:
            return True
    return False


def action_matches(actions, wanted):
    return any(fnmatch.fnmatchcase(wanted.lower(), a.lower()) for a in as_list(actions))


def conditions_hold(conditions, context):
    for operator, clauses in (conditions or {}).items():
        base = operator[: -len("IfExists")] if operator.endswith("IfExists") else operator
        if base not in ("StringEquals", "StringLike"):
            return False
        for key, expected in clauses.items():
            if key.lower() != "sts:externalid":
                return False
            actual = context.get("sts:externalid")
            if actual is None:
                if operator.endswith("IfExists"):
                    continue
                return False
            values = as_list(expected)
            if base == "StringEquals" and actual not in values:
                return False
            if base == "StringLike" and not any(fnmatch.fnmatchcase(actual, v) for v in values):
                return False
    return True


def allowed(policy, action, caller_arn, caller_account, context):
    """Deny wins; otherwise some Allow must match."""
    verdict = False
    for st in as_list(policy.get("Statement")):
        principals = as_list((st.get("Principal") or {}).get("AWS")) if isinstance(st.get("Principal"), dict) else as_list(st.get("Principal"))
        if not (action_matches(st.get("Action"), action) and principal_matches(principals, caller_arn, caller_account)):
            continue
        if not conditions_hold(st.get("Condition"), context):
            continue
        if st.get("Effect") == "Deny":
            return False
        if st.get("Effect") == "Allow":
            verdict = True
    return verdict


def check(response):
    role_arn = response._get_param("RoleArn") or ""
    external_id = response._get_param("ExternalId")
    tagging = any(k.startswith("Tags.member.") for k in response.querystring)
    _, caller_arn, caller_account = response.backend.get_caller_identity(response.get_access_key(), response.region)
    denied = Denied(
        f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )
    parts = role_arn.split(":", 5)
    if len(parts) != 6:
        raise denied
    try:
        role = iam_backends[parts[4]][parts[1]].get_role_by_arn(role_arn)
    except Exception:
        raise denied
    tags = {t["Key"]: t["Value"] for t in (role.tags.values() if isinstance(role.tags, dict) else role.tags or [])}
    if DELAY_TAG in tags:
        created = role.create_date
        now = datetime.datetime.now(created.tzinfo)
        if (now - created).total_seconds() < float(tags[DELAY_TAG]):
            raise denied
    policy = json.loads(role.assume_role_policy_document) if isinstance(role.assume_role_policy_document, str) else role.assume_role_policy_document
    context = {}
    if external_id is not None:
        context["sts:externalid"] = external_id
    for action in ["sts:AssumeRole"] + (["sts:TagSession"] if tagging else []):
        if not allowed(policy, action, caller_arn, caller_account, context):
            raise Denied(
                f"User: {caller_arn} is not authorized to perform: {action} on resource: {role_arn}"
            )


def enforce_trust_policies():
    original = TokenResponse.assume_role

    def assume_role(self):
        try:
            check(self)
        except Denied as e:
            raise STSClientError("AccessDenied", str(e))
        return original(self)

    TokenResponse.assume_role = assume_role


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    enforce_trust_policies()
    server = make_server("127.0.0.1", port, DomainDispatcherApplication(create_backend_app), threaded=True)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()

"""moto's server plus the request context its S3 bucket policies lack (`python moto_server.py -H .. -p ..`).

moto checks bucket policies when objects are read or written, but evaluates conditions only for trust policies
(StringEquals only, no request context, and an unmet condition counts as a deny even in a Deny statement): a
TLS-only statement (`Deny s3:* if Bool aws:SecureTransport = false`, as AWS recommends and the module writes)
then answers 403 to every request. Here bucket policies are evaluated statement by statement against the
request's context: `aws:SecureTransport` is true (every AWS SDK talks TLS to S3; this loopback server is plain
HTTP only because it is local) unless the request carries `X-Emulated-Secure-Transport: false`, which tests
use for a plain-HTTP client. Action/NotAction and Resource with wildcards, Bool / StringEquals /
StringNotEquals conditions, explicit Deny wins, else Allow, else neutral.
Also: a security group rule that references a group reports its description (moto reads it only from CIDR
rules, so Terraform sees a drift on every group-to-group rule). Everything else is moto as installed.

Not emulated: principals other than `*`: statements for named principals are ignored (moto does not tell the
caller's identity here), so a test through this shim proves nothing about who may read a bucket; other
condition keys (an absent key never matches) and operators (the statement applies); IAM identity policies
(moto does not enforce them by default: omlineage_devkit/iam_eval.py evaluates the execution role instead).
"""

from __future__ import annotations

import fnmatch
import json
import signal
import sys
from typing import Any

from moto.ec2.models.security_groups import SecurityGroupRule
from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket
from moto.server import main

SECURE_TRANSPORT_HEADER = "X-Emulated-Secure-Transport"


def request_context() -> dict[str, str]:
    secure = "true"
    try:
        from flask import has_request_context, request

        if has_request_context():
            secure = request.headers.get(SECURE_TRANSPORT_HEADER, "true").strip().lower()
    except ImportError:
        pass
    return {"aws:securetransport": "false" if secure == "false" else "true"}


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _matches(patterns: Any, value: str, *, case: bool = True) -> bool:
    match = fnmatch.fnmatchcase if case else lambda v, p: fnmatch.fnmatchcase(v.lower(), p.lower())
    return any(match(value, pattern) for pattern in _as_list(patterns))


def _condition_holds(conditions: dict[str, dict[str, Any]]) -> bool:
    context = request_context()
    for operator, pairs in conditions.items():
        for key, expected in pairs.items():
            actual = context.get(key.lower())
            wanted = {v.lower() for v in _as_list(expected)}
            if operator in ("Bool", "StringEquals", "StringEqualsIgnoreCase"):
                if actual is None or actual.lower() not in wanted:
                    return False
            elif operator == "StringNotEquals" and (actual is None or actual.lower() in wanted):
                return False
    return True


def _applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    principal = statement.get("Principal")
    if principal not in ("*", {"AWS": "*"}, {"AWS": ["*"]}):
        return False
    if "NotAction" in statement:
        if _matches(statement["NotAction"], action, case=False):
            return False
    elif not _matches(statement.get("Action", []), action, case=False):
        return False
    if not _matches(statement.get("Resource", []), resource):
        return False
    return _condition_holds(statement.get("Condition", {}))


def _get_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    document = json.loads(self.policy.decode())
    statements = document.get("Statement", [])
    result = PermissionResult.NEUTRAL
    for statement in statements if isinstance(statements, list) else [statements]:
        if _applies(statement, action, resource):
            if statement.get("Effect") == "Deny":
                return PermissionResult.DENIED
            result = PermissionResult.PERMITTED
    return result


def _rule_description(self: SecurityGroupRule) -> str | None:
    return self.ip_range.get("Description") or self.source_group.get("Description")


def patch() -> None:
    FakeBucket.get_permission = _get_permission  # type: ignore[method-assign]
    SecurityGroupRule.description = property(_rule_description)  # type: ignore[assignment,method-assign]


def keep_sigint_ignored() -> None:
    """Started with SIGINT ignored (scripts/demo.py shields its servers from Ctrl-C so teardown can still use
    them): moto's main() would install its own SIGINT handler, so refuse that one handler."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        return
    install = signal.signal

    def guarded(signum: int, handler: Any) -> Any:
        return signal.SIG_IGN if signum == signal.SIGINT else install(signum, handler)

    signal.signal = guarded  # type: ignore[assignment]


if __name__ == "__main__":
    patch()
    keep_sigint_ignored()
    main(sys.argv[1:])

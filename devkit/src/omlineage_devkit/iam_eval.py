"""A small IAM policy evaluator for identity-based policies in one account: is this one request allowed?

Follows the AWS evaluation logic for identity policies (an explicit Deny wins, then any Allow, else the
implicit deny; https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):

- `Action` / `NotAction`: `service:Name` patterns, case-insensitive, `*` and `?` wildcards;
- `Resource` / `NotResource`: ARN patterns, case-sensitive, `*` and `?` (a `*` may span `:` and `/`);
- `Condition`: operators StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringLike, StringNotLike,
  ArnEquals, ArnLike, ArnNotEquals, ArnNotLike (each of the six ARN parts matched on its own), Bool, Null,
  each with the `IfExists` suffix; operators AND, keys AND, a key's values OR; key names case-insensitive; a
  key the request does not carry makes a positive operator false and a negated one true
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).

Not evaluated (an error, never a silent allow): policy variables (`${aws:username}`), the set operators
ForAnyValue/ForAllValues, numeric, date and IP operators, `Principal` (identity policies have none);
not modelled at all: resource policies, permission boundaries, SCPs, session policies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

Value = Union[str, bool, list[str]]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: dict[str, Value] = field(default_factory=dict)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _pattern(text: str, ignore_case: bool = False) -> re.Pattern[str]:
    if "${" in text:
        raise ValueError(f"policy variables are not evaluated: {text!r}")
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_pattern(pattern, ignore_case).match(value))


def arn_match(pattern: str, arn: str) -> bool:
    """ArnLike: the six colon-separated parts one by one (the last may itself hold colons)."""
    want, got = pattern.split(":", 5), arn.split(":", 5)
    if len(want) != 6 or len(got) != 6:
        return False
    return all(wildcard_match(w, g) for w, g in zip(want, got))


def _test(operator: str, wanted: list[Any], present: list[Any]) -> bool:
    if operator == "StringEquals":
        return any(str(p) == str(w) for w in wanted for p in present)
    if operator == "StringEqualsIgnoreCase":
        return any(str(p).lower() == str(w).lower() for w in wanted for p in present)
    if operator == "StringLike":
        return any(wildcard_match(str(w), str(p)) for w in wanted for p in present)
    if operator == "ArnEquals":
        return any(str(p) == str(w) for w in wanted for p in present)
    if operator == "ArnLike":
        return any(arn_match(str(w), str(p)) for w in wanted for p in present)
    if operator == "Bool":
        return any(str(p).lower() == str(w).lower() for w in wanted for p in present)
    raise ValueError(f"condition operator {operator!r} is not evaluated")


NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _condition_holds(condition: dict[str, dict[str, Any]], context: dict[str, Value]) -> bool:
    lowered = {k.lower(): v for k, v in context.items()}
    for raw_operator, keys in condition.items():
        if ":" in raw_operator:
            raise ValueError(f"set operators are not evaluated: {raw_operator!r}")
        if_exists = raw_operator.endswith("IfExists")
        operator = raw_operator.removesuffix("IfExists")
        for key, wanted in keys.items():
            present = lowered.get(key.lower())
            if operator == "Null":
                want_null = str(_as_list(wanted)[0]).lower() == "true"
                if (present is None) != want_null:
                    return False
                continue
            if present is None:
                if if_exists or operator in NEGATED:
                    continue
                return False
            values = _as_list(present)
            if operator in NEGATED:
                if _test(NEGATED[operator], _as_list(wanted), values):
                    return False
            elif not _test(operator, _as_list(wanted), values):
                return False
    return True


def statement_applies(statement: dict[str, Any], request: Request) -> bool:
    if "Principal" in statement or "NotPrincipal" in statement:
        raise ValueError("Principal is not evaluated: this evaluates identity policies")
    if "Action" in statement:
        action_ok = any(wildcard_match(a, request.action, True) for a in _as_list(statement["Action"]))
    else:
        action_ok = not any(wildcard_match(a, request.action, True) for a in _as_list(statement["NotAction"]))
    if not action_ok:
        return False
    if "Resource" in statement:
        resource_ok = any(wildcard_match(r, request.resource) for r in _as_list(statement["Resource"]))
    else:
        resource_ok = not any(wildcard_match(r, request.resource) for r in _as_list(statement["NotResource"]))
    return resource_ok and _condition_holds(statement.get("Condition", {}), request.context)


def decide(policies: list[dict[str, Any]], request: Request) -> str:
    """'allow', 'deny' (an explicit Deny) or 'implicit-deny'."""
    allowed = False
    for policy in policies:
        for statement in _as_list(policy["Statement"]):
            if statement_applies(statement, request):
                if statement.get("Effect") == "Deny":
                    return "deny"
                if statement.get("Effect") == "Allow":
                    allowed = True
    return "allow" if allowed else "implicit-deny"

"""Print the module's IAM policy statements and the resource types it declares, as JSON.

Run with `.venvs/checkov/bin/python` (checkov brings python-hcl2): `iam_statements.py <module dir>`. Reads the
HCL itself, so it sees every statement, also those of dynamic blocks and those whose values are only known
after apply (in a plan the execution policy is unknown: it names the secret's ARN).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import hcl2


def flat(value: Any) -> list[Any]:
    """python-hcl2 wraps block attributes in lists (sometimes lists of lists): flatten to scalars."""
    if isinstance(value, list):
        return [x for item in value for x in flat(item)]
    return [value]


def statements(node: Any, document: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "actions" in node or "not_actions" in node:
            found.append(
                {
                    "document": document,
                    "sid": (flat(node.get("sid")) or [None])[0],
                    "effect": (flat(node.get("effect")) or ["Allow"])[0],
                    "actions": flat(node.get("actions")),
                    "resources": flat(node.get("resources")),
                    "not_resources": flat(node.get("not_resources")),
                    "has_condition": "condition" in node,
                    "conditions": [
                        {
                            "test": flat(c.get("test"))[0],
                            "variable": flat(c.get("variable"))[0],
                            "values": flat(c.get("values")),
                        }
                        for c in flat(node.get("condition"))
                        if isinstance(c, dict)
                    ],
                }
            )
        for key, value in node.items():
            if key != "condition":
                found += statements(value, document)
    elif isinstance(node, list):
        for item in node:
            found += statements(item, document)
    return found


def main(module_dir: str) -> None:
    out: dict[str, Any] = {"statements": [], "resource_types": [], "locals": {}}
    for path in sorted(Path(module_dir).glob("*.tf")):
        with open(path, encoding="utf-8") as f:
            parsed = hcl2.load(f)
        for block in parsed.get("data", []):
            for name, body in block.get("aws_iam_policy_document", {}).items():
                out["statements"] += statements(body, name)
        for block in parsed.get("resource", []):
            out["resource_types"] += list(block)
        for block in parsed.get("locals", []):
            out["locals"].update({k: str(flat(v)[0]) for k, v in block.items()})
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])

"""Request models of several OpenMetadata server lines, for the emulator's body validation.

Each server line's models are the `metadata.generated.schema` modules of that line's openmetadata-ingestion
wheel (generated from the server's JSON schemas; they forbid unknown fields). Lines need different pydantic
majors (1.3 is pydantic 1), so each lives in its own venv `.venvs/om-<line>` and this file runs there as a
worker: one JSON request per stdin line, `{"model": name, "body": {...}}`, one answer per stdout line,
`{"ok": true}` or `{"ok": false, "error": "..."}`.

    python schema_lines.py --install                # what scripts/bootstrap.sh installs, one line each
    .venvs/om-1.3/bin/python schema_lines.py --serve  # by path: the om-<line> venvs have no kit

1.12 is the oracle venv itself (the emulator imports its models in process); the table below holds the others.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# line -> (openmetadata-ingestion version, extra requirements, install the wheel without its dependencies).
# 1.3 / 1.6: the generated models need only pydantic (+ email-validator); 1.9 / 2.0 import the ingestion
# framework from their models, so those install whole (dbt-core < 1.12: newer pulls a GitHub-only build).
LINES: dict[str, tuple[str, str, bool]] = {
    "1.3": ("1.3.4.0", "pydantic[email]<2", True),
    "1.6": ("1.6.13.2", "pydantic[email]>=2.7,<3", True),
    "1.9": ("1.9.17.6", "dbt-core<1.12 cachetools", False),
    "2.0": ("2.0.7.0", "dbt-core<1.12 cachetools", False),
}

MODELS = {
    "CreatePipelineServiceRequest": "metadata.generated.schema.api.services.createPipelineService",
    "CreatePipelineRequest": "metadata.generated.schema.api.data.createPipeline",
    "AddLineageRequest": "metadata.generated.schema.api.lineage.addLineage",
    "PipelineStatus": "metadata.generated.schema.entity.data.pipeline",
    "Pipeline": "metadata.generated.schema.entity.data.pipeline",
    "LineageDetails": "metadata.generated.schema.type.entityLineage",
}


def _validate(model: Any, body: dict[str, Any]) -> None:
    if hasattr(model, "model_validate"):  # pydantic 2
        model.model_validate(body)
    else:  # pydantic 1
        model.parse_obj(body)


def _error_text(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        items = []
        for err in errors():
            loc = ".".join(str(p) for p in err.get("loc", ()))
            items.append(f"{loc} {err.get('msg', 'is invalid')}".strip())
        return "[" + ", ".join(items) + "]"
    return f"{type(exc).__name__}: {exc}"


def serve() -> None:
    import importlib

    models = {name: getattr(importlib.import_module(module), name) for name, module in MODELS.items()}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        try:
            request = json.loads(line)
            _validate(models[request["model"]], request["body"])
            answer: dict[str, Any] = {"ok": True}
        except Exception as exc:  # a validation error, or a model this line lacks
            answer = {"ok": False, "error": _error_text(exc)}
        print(json.dumps(answer), flush=True)


def main() -> None:
    if "--install" in sys.argv:
        for line, (version, extra, no_deps) in LINES.items():
            print(line, version, "nodeps" if no_deps else "deps", extra)
    elif "--serve" in sys.argv:
        serve()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

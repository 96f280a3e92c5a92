"""Run inside a target venv: every installed distribution with its version and size on disk (JSON)."""

from __future__ import annotations

import json
from importlib import metadata


def _size(dist: metadata.Distribution) -> int:
    total = 0
    for file in dist.files or []:
        try:
            total += file.locate().stat().st_size
        except OSError:
            continue
    return total


def main() -> None:
    found = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name:
            found[name] = [dist.version, _size(dist)]
    print(json.dumps(found))


if __name__ == "__main__":
    main()

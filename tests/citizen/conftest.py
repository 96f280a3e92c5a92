"""The wheel's code from python/src (as the editable installs use it), for tests that drive the reporter
in this (driver) venv against the OpenMetadata emulator."""

from __future__ import annotations

import sys

from tests.helpers.paths import REPO

sys.path.insert(0, str(REPO / "python" / "src"))

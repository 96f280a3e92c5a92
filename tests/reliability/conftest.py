"""The reliability suites (fault matrix, load): identity servers and the OpenMetadata emulator with auth on
come from the kit's pytest plugin (`idp`, `om_sso`); a summary of measured outcomes is printed at the end of
the session.
"""

from __future__ import annotations

from typing import Any

from omlineage_devkit.summary import SUMMARY


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY:
        terminalreporter.section("reliability: measured outcomes")
        for line in SUMMARY:
            terminalreporter.write_line(line)

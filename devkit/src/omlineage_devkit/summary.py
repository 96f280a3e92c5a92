"""Measured outcomes of the reliability suites, collected by the tests and printed by conftest.py at the end.

A module of its own: pytest may load conftest.py under another module name than the tests import it by.
"""

from __future__ import annotations

SUMMARY: list[str] = []

"""Start the OpenLineage sink (emulators/openlineage_sink.py) and drive its admin API."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .admin_client import AdminClient

SINK = "omlineage_devkit.emulators.openlineage_sink"  # run as `python -m` (the kit is installed there)


class OpenLineageSink(AdminClient):
    """Admin client; `url` is what the HTTP transport's `url` should be (it appends /api/v1/lineage)."""

    def reset(self) -> None:
        self._admin("POST", "reset")

    def events(self) -> list[dict[str, Any]]:
        return self._admin("GET", "events")

    def summary(self) -> dict[str, Any]:
        return self._admin("GET", "summary")

    def set_latency(self, fixed_ms: float = 0, **model: Any) -> dict[str, Any]:
        """Same model and keys as the OpenMetadata emulator's (`per_kind_ms`, `jitter_ms`, `drip_bytes_per_s`,
        `seed`); an event POST is kind `lineage_put`."""
        return self._admin("POST", "latency", json={"fixed_ms": fixed_ms, **model})["latency"]


class SinkProcess:
    """The sink as a subprocess on a free loopback port (in the calling Python: it needs only flask)."""

    def __init__(self, python: str | None = None, latency: str | None = None) -> None:
        self.python = python or sys.executable
        self.latency = latency
        self.workdir = Path(tempfile.mkdtemp(prefix="ol-sink-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> OpenLineageSink:
        port_file = self.workdir / "port"
        args = [self.python, "-m", SINK, "--port", "0", "--port-file", str(port_file)]
        if self.latency:
            args += ["--latency", self.latency]
        log = open(self.workdir / "sink.log", "wb")  # noqa: SIM115 (lives as long as the process)
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log_text = (self.workdir / "sink.log").read_text(errors="replace")
                raise RuntimeError(f"OpenLineage sink did not start:\n{log_text}")
            time.sleep(0.1)
        return OpenLineageSink(f"http://127.0.0.1:{port_file.read_text().strip()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

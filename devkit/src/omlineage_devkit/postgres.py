"""A real PostgreSQL server (Debian's `postgresql` package) in a temp dir on a loopback port, for tests.

initdb/pg_ctl refuse to run as root: when the tests run as root (these machines, CI containers), the server
runs as the `postgres` user (created by the Debian package) through `runuser`. Trust auth on 127.0.0.1 only;
the data directory and socket live in the temp dir, so nothing of the machine's own clusters is touched.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .ports import free_port

DEBIAN_BIN = "/usr/lib/postgresql/*/bin"


def find_bin(name: str) -> str | None:
    for candidate in sorted(glob.glob(f"{DEBIAN_BIN}/{name}"), reverse=True):
        return candidate
    return shutil.which(name)


class PostgresServer:
    def __init__(self) -> None:
        self.initdb, self.pg_ctl, self.psql_bin = find_bin("initdb"), find_bin("pg_ctl"), find_bin("psql")
        if not (self.initdb and self.pg_ctl and self.psql_bin):
            raise RuntimeError(
                "PostgreSQL binaries (initdb, pg_ctl, psql) not found: apt-get install postgresql "
                "(.ci/run installs it)"
            )
        self.root = Path(tempfile.mkdtemp(prefix="pg-lineage-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o755)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[:2])} failed (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def start(self) -> PostgresServer:
        self._run(str(self.initdb), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.pg_ctl),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                [*self.as_user, str(self.pg_ctl), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL (psql -v ON_ERROR_STOP=1); returns the unaligned, tuples-only output."""
        return self._run(
            str(self.psql_bin),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-qAt",
            "-c",
            sql,
        ).stdout

    def uri(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

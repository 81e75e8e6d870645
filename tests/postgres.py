"""A throwaway PostgreSQL server for tests: Debian's binaries, a temp dir,
a free port on 127.0.0.1, password auth; stopped at the end."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .server_harness import free_port

USER = "rk_test"
PASSWORD = "s3cret-Pw-42"
DATABASE = "postgres"


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries not found (Debian package 'postgresql'); "
            "`make test` installs them with apt-get"
        )
    return Path(found[-1]).parent



@dataclass
class PostgresServer:
    root: Path
    port: int
    bin_dir: Path

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    @classmethod
    def start(cls) -> PostgresServer:
        root = Path(tempfile.mkdtemp(prefix="rk-pg-"))
        server = cls(root, free_port(), _bin_dir())
        (root / "pw").write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(root / "pw", "postgres")
        data = root / "data"
        server._run("initdb", "-D", str(data), "-U", USER, "--auth=scram-sha-256",
                    f"--pwfile={root / 'pw'}", "-E", "UTF8")
        options = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1"
        server._run("pg_ctl", "-D", str(data), "-l", str(root / "log"), "-o", options,
                    "-w", "-t", "60", "start")
        return server

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

"""``reactive-server`` command line: port fallback and token from the environment."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from .server_harness import free_port, stop_process


def test_taken_port_moves_on_and_token_comes_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        env = dict(os.environ, REACTIVE_SERVER_TOKEN="from-env-token")
        proc = subprocess.Popen(
            [sys.executable, "-m", "reactive_server", "--port", str(port), "--no-browser",
             "--root-dir", str(tmp_path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        try:
            assert proc.stdout is not None
            line = ""
            for _ in range(10):  # bounded: the URL is among the first lines
                line = proc.stdout.readline()
                if "Open http" in line:
                    break
            match = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", line)
            assert match, line
            assert int(match.group(1)) > port
            assert match.group(2) == "from-env-token"
        finally:
            stop_process(proc)


def test_missing_root_dir_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reactive_server", "--port", "0", "--no-browser",
         "--root-dir", str(tmp_path / "nope")], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "nope" in done.stderr and "Traceback" not in done.stderr


def test_a_negative_buffer_or_replay_limit_is_a_clear_error(tmp_path: Path) -> None:
    for option in ("--replay-limit", "--client-buffer"):
        done = subprocess.run(
            [sys.executable, "-m", "reactive_server", "--port", "0", "--no-browser",
             "--root-dir", str(tmp_path), option, "-1"],
            capture_output=True, text=True, timeout=60)
        assert done.returncode == 2
        assert f"{option} must be 0 or more bytes" in done.stderr
        assert "Traceback" not in done.stderr

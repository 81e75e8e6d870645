"""A real ``jupyter console`` session driven through a pseudo-terminal."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect

JUPYTER = str(Path(sys.executable).with_name("jupyter"))


def test_console_shows_a_cascade_and_the_graph(tmp_path: Path) -> None:
    env = dict(os.environ, TERM="dumb", JUPYTER_RUNTIME_DIR=str(tmp_path))
    child = pexpect.spawn(
        JUPYTER,
        ["console", "--kernel", "reactive", "--simple-prompt"],
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 120),
    )
    try:
        child.expect(r"In \[1\]: ")
        child.sendline("a = 1")
        child.expect(r"In \[2\]: ")
        child.sendline("b = a + 1; print('b is', b)")
        child.expect("b is 2")
        child.expect(r"In \[3\]: ")
        child.sendline("a = 5")
        # The second input re-runs by itself and its output shows up here.
        child.expect("b is 6")
        child.expect(r"In \[4\]: ")
        child.sendline("%reactive graph")
        child.expect("Dependency graph: 2 cells")
        child.expect("defines: a")
        child.expect(r"re-runs: In \[2\] `b = a \+ 1; print\('b is', b\)` \(a\)")
        child.expect(r"In \[5\]: ")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)

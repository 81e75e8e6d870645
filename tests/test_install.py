"""``python -m reactive_kernel install / uninstall`` into a throwaway prefix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_install_and_uninstall_with_a_prefix(tmp_path: Path) -> None:
    env = dict(os.environ, JUPYTER_PATH=str(tmp_path / "share" / "jupyter"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-m", "reactive_kernel", "install", "--prefix",
                           str(tmp_path)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    spec_dir = tmp_path / "share" / "jupyter" / "kernels" / "reactive"
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec["argv"][:3] == [sys.executable, "-m", "reactive_kernel"]
    assert spec["display_name"] == "Python 3 (reactive)"
    assert {p.name for p in spec_dir.iterdir()} == {
        "kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg"}
    gone = subprocess.run([sys.executable, "-m", "reactive_kernel", "uninstall"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert gone.returncode == 0 and str(spec_dir) in gone.stdout
    assert not spec_dir.exists()

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


def test_the_notebooks_folder_shadows_no_module_and_argv_is_stocks(tmp_path: Path) -> None:
    """Audit 14: the kernel started from its kernelspec (``python -m reactive_kernel``)
    had the notebook's folder first on sys.path, so a ``statistics.py`` beside the
    notebook shadowed the standard library's (and a ``uuid.py`` killed the kernel as it
    started); stock's launcher removes it and IPython puts ``''`` after the standard
    library.  Modules beside the notebook still import, and ``sys.argv[0]`` is stock's
    (``argparse`` prints ``usage: ipykernel_launcher.py``)."""
    from .notebook_runs import Kernel, render

    (tmp_path / "statistics.py").write_text("def mean(xs):\n    return 'the local one'\n")
    (tmp_path / "uuid.py").write_text("raise ImportError('the local uuid.py')\n")
    (tmp_path / "helper_mod.py").write_text("VALUE = 42\n")
    kernel = Kernel("reactive", tmp_path)
    try:
        shown = render(kernel.execute(
            "import statistics, uuid, helper_mod, argparse\n"
            "print(statistics.mean([1, 2, 3]), hasattr(uuid, 'uuid4'), helper_mod.VALUE)\n"
            "argparse.ArgumentParser().print_usage()", "c1")[1])
    finally:
        kernel.close()
    assert shown == "2 True 42\nusage: ipykernel_launcher.py [-h]\n", shown

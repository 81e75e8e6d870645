"""``python -m reactive_kernel install|uninstall``: manage the ``reactive`` kernelspec."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from importlib import resources
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from . import DISPLAY_NAME, KERNEL_NAME

LOGOS = ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg")


def kernel_json(python: str | None = None) -> dict[str, object]:
    """The kernelspec, started with the installing interpreter."""
    return {
        "argv": [python or sys.executable, "-m", "reactive_kernel", "-f", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {"debugger": False},
    }


def install(user: bool = False, prefix: str | None = None) -> str:
    """Install the kernelspec; returns the directory it went to."""
    with tempfile.TemporaryDirectory() as tmp:
        spec_dir = Path(tmp) / KERNEL_NAME
        spec_dir.mkdir()
        (spec_dir / "kernel.json").write_text(json.dumps(kernel_json(), indent=2) + "\n")
        logos = resources.files("reactive_kernel.kernelspec")
        for logo in LOGOS:
            source = logos / logo
            if source.is_file():
                (spec_dir / logo).write_bytes(source.read_bytes())
        return KernelSpecManager().install_kernel_spec(
            str(spec_dir), KERNEL_NAME, user=user, prefix=prefix
        )


def uninstall() -> str | None:
    manager = KernelSpecManager()
    try:
        path = manager.get_kernel_spec(KERNEL_NAME).resource_dir
    except NoSuchKernel:
        return None
    manager.remove_kernel_spec(KERNEL_NAME)
    return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m reactive_kernel")
    sub = parser.add_subparsers(dest="command", required=True)
    inst = sub.add_parser("install", help="install the 'reactive' kernelspec")
    where = inst.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for the current user")
    where.add_argument("--sys-prefix", action="store_true", help="into sys.prefix (venv)")
    where.add_argument("--prefix", help="under this prefix")
    sub.add_parser("uninstall", help="remove the 'reactive' kernelspec")
    args = parser.parse_args(argv)
    if args.command == "uninstall":
        removed = uninstall()
        print(f"Removed kernelspec {KERNEL_NAME!r} from {removed}" if removed
              else f"Kernelspec {KERNEL_NAME!r} is not installed")
        return 0
    prefix = sys.prefix if args.sys_prefix else args.prefix
    path = install(user=args.user, prefix=prefix)
    print(f"Installed kernelspec {KERNEL_NAME!r} ({DISPLAY_NAME}) in {path}")
    return 0

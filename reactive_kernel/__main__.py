"""``python -m reactive_kernel``: launch the kernel, or ``install``/``uninstall``/``run``."""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and sys.path and (
        sys.path[0] == "" or os.path.abspath(sys.path[0]) == os.getcwd()):
    # ``python -m`` puts the notebook's folder first on sys.path: a file there named
    # like a module of the standard library (``statistics.py``, ``uuid.py``) would
    # shadow it, for the kernel's own imports too.  As ipykernel's launcher does, it
    # goes; IPython puts ``''`` back after the standard library (``init_path``).
    del sys.path[0]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("install", "uninstall"):
        from .install import main as install_main

        return install_main(args)
    if args and args[0] == "run":
        from .run import main as run_main

        return run_main(args[1:])
    from importlib.util import find_spec

    from .kernelapp import ReactiveKernelApp

    # Code in cells sees the program stock ipykernel has (``argparse`` prints
    # ``usage: ipykernel_launcher.py``), not this package's ``__main__.py``.
    launcher = find_spec("ipykernel_launcher")
    if launcher is not None and launcher.origin:
        sys.argv[0] = launcher.origin
    ReactiveKernelApp.launch_instance()
    return 0


if __name__ == "__main__":
    sys.exit(main())

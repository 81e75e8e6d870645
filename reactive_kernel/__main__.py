"""``python -m reactive_kernel``: launch the kernel, or ``install``/``uninstall``/``run``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("install", "uninstall"):
        from .install import main as install_main

        return install_main(args)
    if args and args[0] == "run":
        from .run import main as run_main

        return run_main(args[1:])
    from .kernelapp import ReactiveKernelApp

    ReactiveKernelApp.launch_instance()
    return 0


if __name__ == "__main__":
    sys.exit(main())

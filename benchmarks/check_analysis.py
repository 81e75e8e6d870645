"""The analysis against CPython's bytecode over the whole standard library, the
installed pandas and IPython (``make check-analysis``).

Every top-level statement is a cell, and so is every whole module.  Prints the
missed definitions and reads (there must be none), and the analysis time per
cell against ``ast.parse`` alone on the same cells (median, p99).  Exits 1 on a
miss.
"""

from __future__ import annotations

import ast
import collections
import importlib.util
import sys
import sysconfig
import time
import warnings
from pathlib import Path

from benchlib import median, percentile

from reactive_kernel.analysis import analyse
from tests.analysis_oracle import missed, statements


def package_root(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin).parent if spec and spec.origin else None


def sources() -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = [p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts]
    for name in ("pandas", "IPython"):
        root = package_root(name)
        if root is not None:
            files += root.rglob("*.py")
    return sorted(files)


def main() -> int:
    warnings.simplefilter("ignore")
    misses: collections.Counter[str] = collections.Counter()
    shown = 0
    analysis_us: list[float] = []
    parse_us: list[float] = []
    cells = modules = 0
    for path in sources():
        try:
            source = path.read_text(encoding="utf-8")
            compile(source, str(path), "exec", dont_inherit=True)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        modules += 1
        for cell in [source, *statements(source)]:
            try:
                found = missed(cell)
            except SyntaxError:
                continue
            cells += 1
            if cell is not source:
                started = time.perf_counter()
                ast.parse(cell)
                parse_us.append((time.perf_counter() - started) * 1e6)
                started = time.perf_counter()
                analyse(cell)
                analysis_us.append((time.perf_counter() - started) * 1e6)
            for kind, names in (("definition", found.defs), ("read", found.reads)):
                for name in sorted(names):
                    misses[kind] += 1
                    if shown < 50:
                        shown += 1
                        print(f"missed {kind} {name!r} in {path}: {cell[:100]!r}")

    print(f"{modules} modules, {cells} cells (whole modules and top-level statements)")
    print(f"missed definitions: {misses['definition']}, missed reads: {misses['read']}")
    print(f"analysis per statement: median {median(analysis_us):.0f} us, "
          f"p99 {percentile(analysis_us, 0.99):.0f} us; ast.parse alone: median "
          f"{median(parse_us):.0f} us, p99 {percentile(parse_us, 0.99):.0f} us")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())

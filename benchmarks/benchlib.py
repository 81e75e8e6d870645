"""What the benchmark scripts share: the import path, statistics and reporting.

Importing this module puts the repository root on ``sys.path`` (for ``tests.*``)
and this directory (for sibling modules such as ``bench_kernel``).
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _path in (str(HERE), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)


class BenchError(RuntimeError):
    """A benchmark could not complete or produced a wrong result."""


def median(values: Iterable[float]) -> float:
    """The median, nan if there are no values."""
    values = list(values)
    return statistics.median(values) if values else math.nan


def percentile(values: Iterable[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (``q`` in 0..1): an observed value; nan if none."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def ratio(a: float, b: float) -> float:
    """``a / b``, nan if ``b`` is 0."""
    return a / b if b else math.nan


def verdict(met: bool) -> str:
    """How the summaries report a target: ``met`` or ``NOT MET``."""
    return "met" if met else "NOT MET"


def machine() -> dict[str, Any]:
    """The Python version, platform and CPU count, for the JSON results."""
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "cpus": os.cpu_count()}


def finish(results: dict[str, Any], json_path: str | None, failed: bool) -> int:
    """Print the total time (``results["elapsed_s"]``), write the JSON results if asked;
    the exit status."""
    print(f"total {results['elapsed_s']:.1f} s")
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"results written to {json_path}")
    return 1 if failed else 0

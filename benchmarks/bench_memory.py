"""Memory of kept superseded values: a notebook that redefines a large DataFrame.

    .venv/bin/python benchmarks/bench_memory.py [--rows 2000000]

The reactive kernel keeps the value each cell left each name (``df = load()``
then ``df = df.dropna()`` keeps both frames), so a cell between them can
re-run without re-running the cells above it; ``superseded_memory_limit``
caps what is kept.  This runs the same cells, with cell ids, on stock
ipykernel, on the reactive kernel with the default budget (1 GiB) and with a
budget of 0, and prints each kernel's resident memory (RSS) after every cell,
and what the reactive kernel reports as kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchlib import ratio

from tests.notebook_runs import Kernel

CELLS = [
    "import numpy as np\nimport pandas as pd\nrng = np.random.default_rng(0)",
    "df = pd.DataFrame(rng.random(({rows}, 8)), columns=list('abcdefgh'))",
    "df = df.dropna()",
    "df = df[df['a'] > 0.1]",
    "df['total'] = df.sum(axis=1)",
    "df = df.round(3)",
    "summary = df.describe()",
]
PROBE = "import gc; gc.collect()"


def rss_mb(kernel: Kernel) -> float:
    pid = kernel.km.provisioner.pid  # type: ignore[union-attr]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def run(name: str, rows: int, budget: int | None) -> list[float]:
    kernel = Kernel(name, Path.cwd())
    try:
        if budget is not None:
            kernel.execute(f"get_ipython().kernel.superseded_memory_limit = {budget}")
        sizes = []
        for i, code in enumerate(CELLS):
            reply, _ = kernel.execute(code.format(rows=rows), f"m{i}")
            assert reply["content"]["status"] == "ok", reply["content"]
            kernel.execute(PROBE)
            sizes.append(rss_mb(kernel))
        if name == "reactive":
            reply, _ = kernel.request("execute_request", {
                "code": "", "silent": True, "store_history": False, "allow_stdin": False,
                "user_expressions": {"kept": "get_ipython().kernel.runner.values"
                                             ".superseded_bytes() / 2**20"}})
            kept = reply["content"]["user_expressions"]["kept"]["data"]["text/plain"]
            sizes.append(float(kept))
        return sizes
    finally:
        kernel.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    frame_mb = args.rows * 8 * 8 / 2**20
    print(f"one frame of {args.rows:,} x 8 float64 = {frame_mb:.0f} MiB")
    stock = run("python3", args.rows, None)
    default = run("reactive", args.rows, None)
    none = run("reactive", args.rows, 0)
    print(f"{'after cell':<48} {'stock':>9} {'reactive':>9} {'budget 0':>9}  (RSS, MiB)")
    for i, code in enumerate(CELLS):
        line = code.format(rows=args.rows).splitlines()[-1][:46]
        print(f"{line:<48} {stock[i]:>9.0f} {default[i]:>9.0f} {none[i]:>9.0f}")
    print(f"{'kept superseded values (reactive report)':<48} {'-':>9} {default[-1]:>9.0f} "
          f"{none[-1]:>9.0f}")
    last = len(CELLS) - 1
    print(f"end: reactive {ratio(default[last], stock[last]):.2f}x stock RSS, "
          f"budget 0 {ratio(none[last], stock[last]):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

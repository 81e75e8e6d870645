"""``%reactive``: switch modes and show the dependency graph in any frontend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_magic, magics_class

from .graph import CellId
from .runner import Runner, Status

if TYPE_CHECKING:
    from .kernel import ReactiveKernel

USAGE = """\
%reactive            show the mode and this help
%reactive auto       re-run dependent cells at once (default)
%reactive lazy       mark dependent cells stale instead of running them
%reactive run-stale  run every stale cell (after this one), in order
%reactive graph      print the dependency graph: who defines and reads what
%reactive status     print each cell's last run state
"""


def _short(cell: CellId, width: int = 10) -> str:
    return cell if len(cell) <= width else cell[: width - 1] + "…"


def _names(names: Any) -> str:
    return ", ".join(sorted(names)) or "-"


def format_graph(runner: Runner) -> str:
    """A terminal-friendly listing of cells in dependency order."""
    graph = runner.graph
    cells = graph.topological_order(graph.cells())
    if not cells:
        return "The dependency graph is empty: no cell defines or reads a name yet."
    lines = [f"Dependency graph: {len(cells)} cells, mode {runner.mode}"]
    for cell in cells:
        node = graph.cell(cell)
        state = runner.state(cell)
        first = node.code.strip().splitlines()[0] if node.code.strip() else ""
        if len(first) > 50:
            first = first[:49] + "…"
        lines.append(f"[{_short(cell)}] {state.status.value:<8} {first}")
        lines.append(f"    defines: {_names(node.defs)}")
        lines.append(f"    reads:   {_names(node.refs)}")
        parents = graph.parents(cell)
        children = graph.children(cell)
        if parents:
            lines.append("    after:   " + "; ".join(
                f"{_short(p)} ({_names(n)})" for p, n in sorted(parents.items())))
        if children:
            lines.append("    re-runs: " + "; ".join(
                f"{_short(c)} ({_names(n)})" for c, n in sorted(children.items())))
    return "\n".join(lines)


def format_status(runner: Runner) -> str:
    rows = [f"{'cell':<12} {'status':<12} {'ms':>8}  note"]
    for cell in runner.graph.topological_order(runner.graph.cells()):
        state = runner.state(cell)
        ms = f"{state.duration * 1000:.1f}" if state.duration is not None else "-"
        note = state.error or ""
        if state.status is Status.SKIPPED and state.skipped_because:
            note = f"skipped because {state.skipped_because} failed"
        rows.append(f"{_short(cell, 12):<12} {state.status.value:<12} {ms:>8}  {note}")
    return "\n".join(rows)


@magics_class
class ReactiveMagics(Magics):
    """The ``%reactive`` line magic."""

    def __init__(self, shell: Any, kernel: ReactiveKernel) -> None:
        super().__init__(shell)
        self.kernel = kernel

    @line_magic
    def reactive(self, line: str) -> None:
        """Control the reactive kernel; ``%reactive`` alone prints help."""
        command = line.strip().lower()
        runner = self.kernel.runner
        if command in ("auto", "lazy"):
            self.kernel.mode = command
            print(f"Reactive mode: {command}")
        elif command == "graph":
            print(format_graph(runner))
        elif command == "status":
            print(format_status(runner))
        elif command in ("run-stale", "run_stale"):
            self.kernel.run_stale_requested = True
        elif command in ("", "help"):
            print(f"Reactive mode: {runner.mode}\n{USAGE}")
        else:
            raise ValueError(f"Unknown %reactive command {line.strip()!r}.\n{USAGE}")

"""``%reactive``: switch modes and show the dependency graph in any frontend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_magic, magics_class

from .runner import Runner, Status

if TYPE_CHECKING:
    from .kernel import ReactiveKernel

USAGE = """\
%reactive            show the mode and this help
%reactive auto       re-run dependent cells at once (default)
%reactive lazy       mark dependent cells stale instead of running them
%reactive run-stale  run every stale cell (after this one), in order
%reactive graph      print the dependency graph: who defines and reads what
%reactive status     print each cell's last run state, and how inputs without
                     a cell id are taken (interactive or batch)
"""


def _names(names: Any) -> str:
    return ", ".join(sorted(names)) or "-"


def format_graph(runner: Runner) -> str:
    """A terminal-friendly listing of cells in notebook order, with every
    binding: which cell's definition of each name a cell reads."""
    graph = runner.graph
    cells = graph.cells()
    if not cells:
        return "The dependency graph is empty: no cell defines or reads a name yet."
    lines = [f"Dependency graph: {len(cells)} cells in notebook order, mode {runner.mode}"]
    for cell in cells:
        node = graph.cell(cell)
        state = runner.state(cell)
        lines.append(f"{runner.label(cell)}  [{state.status.value}]")
        lines.append(f"    defines: {_names(node.defs)}")
        parents = graph.parents(cell)
        if parents:
            lines.append("    reads:   " + "; ".join(
                f"{_names(n)} from {runner.label(p)}"
                for p, n in sorted(parents.items(), key=lambda i: graph.position(i[0]))))
        unbound = sorted(n for n in node.refs if graph.binding(cell, n) is None)
        if unbound:
            lines.append(f"    reads (no cell defines): {', '.join(unbound)}")
        children = graph.children(cell)
        if children:
            lines.append("    re-runs: " + "; ".join(
                f"{runner.label(c)} ({_names(n)})"
                for c, n in sorted(children.items(), key=lambda i: graph.position(i[0]))))
    return "\n".join(lines)


def format_status(runner: Runner, anonymous: str) -> str:
    rows = [f"Inputs without a cell id: {anonymous}", f"{'status':<12} {'ms':>8}  cell"]
    for cell in runner.graph.cells():
        state = runner.state(cell)
        ms = f"{state.duration * 1000:.1f}" if state.duration is not None else "-"
        note = f"  {state.error}" if state.error else ""
        if state.status is Status.SKIPPED and state.skipped_because:
            note = f"  (skipped: {runner.label(state.skipped_because)} failed)"
        rows.append(f"{state.status.value:<12} {ms:>8}  {runner.label(cell)}{note}")
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
            print(format_status(runner, self.kernel.anonymous_description()))
        elif command in ("run-stale", "run_stale"):
            self.kernel.run_stale_requested = True
        elif command in ("", "help"):
            print(f"Reactive mode: {runner.mode}\n{USAGE}")
        else:
            raise ValueError(f"Unknown %reactive command {line.strip()!r}.\n{USAGE}")

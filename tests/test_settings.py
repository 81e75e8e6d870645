"""Settings outside the namespace follow notebook order (``reactive_kernel.settings``).

A cell re-run in a cascade sees the working directory, ``rcParams``, inline figure
formats, numpy's and pandas' display options and ``%precision`` that the cells above
it leave, as a run from the top does, not what the cells below left; after the
cascade, the settings are what every cell leaves.  Each test puts back what it set
by editing its setting cells, which also checks that an undone setting is undone.
"""

from __future__ import annotations

import re
from pathlib import Path

from reactive_kernel.graph import CellId, DependencyGraph
from reactive_kernel.settings import Setting, Settings, State

from .conftest import KernelHarness
from .test_kernel import graph_request


class Store(Setting):
    """A setting held in a dict (None: its library is not loaded)."""

    def __init__(self, name: str, gate: str | None = None) -> None:
        self.name = name
        self.gate = re.compile(gate) if gate else None
        self.state: dict[str, object] | None = {"a": 0, "b": 0}
        self.writes: list[State] = []

    def read(self) -> State | None:
        return None if self.state is None else dict(self.state)

    def write(self, changes: State, target: State) -> None:
        assert self.state is not None
        self.writes.append(changes)
        self.state.update(changes)


def graph_of(*cells: str) -> DependencyGraph:
    graph = DependencyGraph()
    for cell in cells:
        graph.set_cell(CellId(cell), "", (), ())
    return graph


def run(settings: Settings, store: Store, cell: str, code: str = "", **change: int) -> None:
    """``cell`` runs at its position and sets ``change``."""
    settings.before(CellId(cell), True)
    assert store.state is not None
    store.state.update(change)
    settings.after(CellId(cell), code)


def test_a_cell_sees_what_the_cells_above_it_left_and_the_end_state_is_all_of_them() -> None:
    store = Store("s")
    settings = Settings(graph_of("1", "2", "3", "4"), lambda: [store])
    run(settings, store, "1", a=1)
    run(settings, store, "2")
    run(settings, store, "3", b=3)
    run(settings, store, "4", a=4)
    assert store.state == {"a": 4, "b": 3}
    settings.before(CellId("2"), True)  # a re-run of 2: what 1 left
    assert store.state == {"a": 1, "b": 0}
    settings.after(CellId("2"), "")
    settings.before(CellId("4"), True)  # 4 starts from 1's and 3's changes
    assert store.state == {"a": 1, "b": 3}
    settings.after(CellId("4"), "")  # ... and, edited, changes nothing now
    settings.finalize()
    assert store.state == {"a": 1, "b": 3}
    settings.forget(CellId("3"))  # deleted: its change is undone
    settings.finalize()
    assert store.state == {"a": 1, "b": 0}
    writes = len(store.writes)
    settings.finalize()
    settings.before(CellId("4"), True)
    assert len(store.writes) == writes  # nothing to change: nothing written


def test_a_gated_setting_is_read_only_around_cells_that_mention_it() -> None:
    store = Store("s", gate="option")
    settings = Settings(graph_of("1", "2", "3"), lambda: [store])
    run(settings, store, "1")
    run(settings, store, "2", "set_option('a', 2)", a=2)
    run(settings, store, "3", "x = 1", b=3)  # unseen: the code mentions no option
    assert settings.changes == {"2": {"s": {"a": 2}}}
    settings.before(CellId("1"), True)
    assert store.state == {"a": 0, "b": 3}  # (b was never seen changing)


def test_a_library_loaded_by_a_cell_starts_from_what_that_cell_left() -> None:
    store = Store("s")
    store.state = None
    settings = Settings(graph_of("1", "2", "3"), lambda: [store])
    settings.before(CellId("1"), True)
    store.state = {"a": 5, "b": 0}  # the import
    settings.after(CellId("1"), "")
    run(settings, store, "3", a=7)
    settings.before(CellId("2"), True)
    assert store.state == {"a": 5, "b": 0}
    assert settings.changes == {"3": {"s": {"a": 7}}}
    settings.after(CellId("2"), "")
    settings.finalize()
    assert store.state == {"a": 7, "b": 0}


def ids(*names: str) -> list[str]:
    prefix = KernelHarness.unique("st")
    return [f"{prefix}-{n}" for n in names]


def result(run, cell: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The data of the cell's execute_result."""
    return next(m["content"]["data"] for m in run.outputs(cell)
                if m["msg_type"] == "execute_result")


def mimes(run, cell: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [k for m in run.outputs(cell) if m["msg_type"] == "display_data"
            for k in m["content"]["data"] if k.startswith("image/")]


def images(run, cell: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["content"]["data"]["image/png"] for m in run.outputs(cell)
            if m["msg_type"] == "display_data" and "image/png" in m["content"]["data"]]


def test_a_cell_above_an_rcparams_change_re_runs_with_the_settings_above_it(
        kernel: KernelHarness) -> None:
    c = ids("1", "2", "3", "4", "5")
    kernel.ok("import matplotlib.pyplot as plt\nrc_n = 1", c[0])
    default = kernel.ok("print(rc_n, plt.rcParams['lines.linewidth'])", c[1]).text(c[1])
    assert default.startswith("1 ")
    kernel.ok("plt.rcParams['lines.linewidth'] = 7.0", c[2])
    assert kernel.ok("print(plt.rcParams['lines.linewidth'])", c[3]).text(c[3]) == "7.0\n"
    edit = kernel.ok("import matplotlib.pyplot as plt\nrc_n = 2", c[0])
    assert edit.text(c[1]) == "2 " + default[2:]  # not 7.0, the setting below it
    # After the cascade the setting is what the cells leave, top to bottom.
    assert kernel.ok("print(plt.rcParams['lines.linewidth'])", c[4]).text(c[4]) == "7.0\n"
    # The setting taken out of its cell is undone: its readers below show the default.
    undone = kernel.ok("pass", c[2])
    assert undone.text(c[3]) == default[2:]
    assert kernel.value("plt.rcParams['lines.linewidth']") == default[2:].strip()


def test_a_plot_above_a_figure_format_change_stays_png(kernel: KernelHarness) -> None:
    c = ids("1", "2", "3", "4")
    kernel.ok("import matplotlib.pyplot as plt\nff_n = 3", c[0])
    first = kernel.ok("plt.plot(range(ff_n));", c[1])
    assert mimes(first, c[1]) == ["image/png"]
    kernel.ok("%config InlineBackend.figure_format = 'svg'", c[2])
    assert mimes(kernel.ok("plt.plot([1, 2]);", c[3]), c[3]) == ["image/svg+xml"]
    edit = kernel.ok("import matplotlib.pyplot as plt\nff_n = 4", c[0])
    assert c[1] in edit.reactive["ran"]
    assert mimes(edit, c[1]) == ["image/png"]
    # The format below is still SVG: a plot at the end is drawn as SVG.
    assert mimes(kernel.ok("plt.plot([1, 2]);", c[3]), c[3]) == ["image/svg+xml"]
    kernel.ok("pass", c[2])
    assert mimes(kernel.ok("plt.plot([1, 2]);", c[3]), c[3]) == ["image/png"]


def test_a_file_read_above_a_chdir_is_read_where_the_notebook_was(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """Top to bottom, ``open('data.txt')`` above ``%cd sub`` reads the notebook
    folder's file; re-run for an edit above it, it must not read ``sub/data.txt``."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "data.txt").write_text("top")
    (tmp_path / "sub" / "data.txt").write_text("sub")
    c = ids("0", "1", "2", "3", "4", "5")
    kernel.ok("import os\ncd_home = os.getcwd()", c[5])
    kernel.ok(f"os.chdir({str(tmp_path)!r})", c[0])
    kernel.ok("cd_suffix = '!'", c[1])
    assert kernel.ok("print(open('data.txt').read() + cd_suffix)", c[2]).text(c[2]) == "top!\n"
    kernel.ok("%cd sub", c[3])
    assert kernel.ok("print(open('data.txt').read())", c[4]).text(c[4]) == "sub\n"
    edit = kernel.ok("cd_suffix = '?'", c[1])
    assert edit.text(c[2]) == "top?\n"
    assert kernel.value("os.getcwd()") == repr(str(tmp_path / "sub"))
    # Put back: the cells that moved are emptied, the directory is the first one seen.
    kernel.ok("pass", c[3])
    kernel.ok("pass", c[0])
    assert kernel.value("os.getcwd() == cd_home") == "True"


def test_a_relative_cd_below_an_edited_cd_lands_where_top_to_bottom_does(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """``%cd sub`` then ``%cd ..``: edited to ``%cd sub/deeper``, the first
    leaves another directory, and the relative ``%cd ..`` re-runs from there
    (audit 22: it kept the directory of its first run)."""
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    c = ids("0", "1")
    where = "__import__('os').getcwd()"
    home = kernel.value(where)
    kernel.ok(f"%cd {tmp_path}/sub", c[0])
    kernel.ok("%cd ..", c[1])
    assert kernel.value(where) == repr(str(tmp_path))
    edit = kernel.ok(f"%cd {tmp_path}/sub/deeper", c[0])
    assert edit.reactive["ran"] == [c[0], c[1]]
    assert kernel.value(where) == repr(str(tmp_path / "sub"))
    kernel.ok("pass", c[1])
    kernel.ok("pass", c[0])
    assert kernel.value(where) == home


def test_a_cell_importing_os_itself_follows_an_edited_cd_above(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """``import os; print(os.getcwd())`` below ``%cd`` cells, with no cell
    above binding ``os``: taking out or editing a ``%cd`` above re-runs it, and
    it shows where a run from the top is (it read no setting: it kept showing
    the directory of its first run)."""
    (tmp_path / "sub").mkdir()
    c = ids("0", "1", "2")
    where = "__import__('os').getcwd()"
    home = kernel.value(where)
    kernel.ok(f"%cd {tmp_path}/sub", c[0])
    kernel.ok(f"%cd {tmp_path}", c[1])
    show = "import os as cw_os\nprint('cwd', cw_os.getcwd())"
    assert kernel.ok(show, c[2]).text(c[2]) == f"cwd {tmp_path}\n"
    edit = kernel.ok("pass", c[1])
    assert c[2] in edit.reactive["ran"]
    assert edit.text(c[2]) == f"cwd {tmp_path / 'sub'}\n"
    edit = kernel.ok(f"%cd {tmp_path}", c[0])
    assert edit.text(c[2]) == f"cwd {tmp_path}\n"
    kernel.ok("pass", c[2])
    kernel.ok("pass", c[0])
    assert kernel.value(where) == home


def test_numpy_error_handling_taken_out_is_undone(kernel: KernelHarness) -> None:
    """``np.seterr(all='ignore')`` taken out of its cell is undone: the cell
    below dividing by zero warns again, as top to bottom (it stayed ignored)."""
    c = ids("0", "1", "2")
    kernel.ok("import numpy as se_np", c[0])
    kernel.ok("se_np.seterr(all='ignore');", c[1])
    show = "se_w = se_np.log(se_np.array([-1.0]))\nprint('w', se_w)"
    assert kernel.ok(show, c[2]).text(c[2]) == "w [nan]\n"
    edit = kernel.ok("pass", c[1])
    assert "RuntimeWarning" in edit.text(c[2])
    assert kernel.value("se_np.geterr()['invalid']") == "'warn'"
    edit = kernel.ok("se_np.seterr(invalid='ignore');", c[1])
    assert edit.text(c[2]) == "w [nan]\n"
    kernel.ok("pass", c[1])
    assert kernel.value("se_np.geterr()['invalid']") == "'warn'"


def test_display_options_below_do_not_reach_a_re_run_cell_above(
        kernel: KernelHarness) -> None:
    c = ids("1", "2", "3", "4")
    kernel.ok("import numpy as np\nimport pandas as pd\npo_x = np.arange(4) / 3\n"
              "po_df = pd.DataFrame({'a': range(100)})", c[0])
    shows = "po_y = po_x * 1\nprint(po_y)\nprint(len(repr(po_df)))\n0.123456789"
    before = kernel.ok(shows, c[1]).text(c[1])
    assert before.startswith("[0.         0.33333333 0.66666667 1.        ]\n")
    assert before.endswith("0.123456789\n")
    kernel.ok("np.set_printoptions(precision=2)\npd.set_option('display.max_rows', 200)\n"
              "%precision 2", c[2])
    assert kernel.ok("print(po_x)\n1 / 3", c[3]).text(c[3]) == "[0.   0.33 0.67 1.  ]\n0.33\n"
    edit = kernel.ok("import numpy as np\nimport pandas as pd\npo_x = np.arange(4) / 6\n"
                     "po_df = pd.DataFrame({'a': range(100)})", c[0])
    assert edit.text(c[1]) == ("[0.         0.16666667 0.33333333 0.5       ]\n"
                               + before.split("\n", 1)[1])
    assert edit.text(c[3]) == "[0.   0.17 0.33 0.5 ]\n0.33\n"
    # Taken out, the options are the defaults again.
    kernel.ok("pass", c[2])
    assert kernel.value("np.get_printoptions()['precision']") == "8"
    assert kernel.value("pd.get_option('display.max_rows')") == "60"
    assert kernel.ok("print(po_x)\n1 / 3", c[3]).text(c[3]) == (
        "[0.         0.16666667 0.33333333 0.5       ]\n0.3333333333333333\n")


def test_an_edited_precision_re_runs_the_cells_below_that_showed_a_float(
        kernel: KernelHarness) -> None:
    """``%precision`` sets how IPython's plain-text formatter shows floats: a
    cell that showed one (``x``, ``[x, 2.5]``) reads it, and an edited, added or
    taken-out ``%precision`` above re-runs it, as top to bottom shows it; a
    ``print``, which the formatter never sees, does not re-run."""
    c = ids("1", "2", "3", "4", "5", "6")
    kernel.ok("%precision 2", c[0])
    kernel.ok("pr_x = 1 / 3", c[1])
    assert kernel.ok("pr_x", c[2]).text(c[2]) == "0.33\n"
    assert kernel.ok("print(pr_x)", c[3]).text(c[3]) == "0.3333333333333333\n"
    assert kernel.ok("[pr_x, 2.5]", c[4]).text(c[4]) == "[0.33, 2.50]\n"
    assert kernel.ok("display(pr_x)", c[5]).text(c[5]) == "0.33\n"
    # (A cell reading no other cell's names shows floats too: audit 22.)
    c.append(ids("7")[0])
    assert kernel.ok("24 * 60 / 7", c[6]).text(c[6]) == "205.71\n"
    edit = kernel.ok("%precision 4", c[0])
    assert edit.reactive["ran"] == [c[0], c[2], c[4], c[5], c[6]]
    assert edit.text(c[6]) == "205.7143\n"
    assert edit.text(c[2]) == "0.3333\n"
    assert edit.text(c[4]) == "[0.3333, 2.5000]\n"
    assert kernel.ok("%precision 4", c[0]).reactive["ran"] == [c[0]]
    # Taken out: the floats show in full again.
    edit = kernel.ok("pass", c[0])
    assert edit.text(c[2]) == "0.3333333333333333\n"
    assert edit.text(c[4]) == "[0.3333333333333333, 2.5]\n"
    # Added again, in another cell above them.
    edit = kernel.ok("pr_x = 1 / 3\n%precision 1", c[1])
    assert edit.text(c[2]) == "0.3\n"
    kernel.ok("pr_x = 1 / 3\n%precision", c[1])


def test_an_edited_figure_format_redraws_the_plots_below_it(kernel: KernelHarness) -> None:
    c = ids("1", "2", "3", "4")
    kernel.ok("import matplotlib.pyplot as plt", c[0])
    kernel.ok("%config InlineBackend.figure_format = 'svg'", c[1])
    assert mimes(kernel.ok("plt.plot([1, 2]);", c[2]), c[2]) == ["image/svg+xml"]
    kernel.ok("ef_n = len(plt.get_fignums())", c[3])  # reads plt, draws nothing
    edit = kernel.ok("%config InlineBackend.figure_format = 'png'", c[1])
    assert set(edit.reactive["ran"]) == {c[1], c[2], c[3]}
    assert mimes(edit, c[2]) == ["image/png"]
    again = kernel.ok("%config InlineBackend.figure_format = 'png'", c[1])
    assert again.reactive["ran"] == [c[1]]  # the same setting: nothing to redraw
    kernel.ok("pass", c[1])


def test_a_setting_taken_out_of_the_cell_that_loads_its_library_is_undone(
        kernel: KernelHarness) -> None:
    """``import numpy as np; np.set_printoptions(precision=2)`` in one cell: taken
    out, the options are numpy's defaults again, not the state that cell left."""
    c = ids("1", "2")
    kernel.ok("import numpy as np\nnp.set_printoptions(precision=2)", c[0])
    assert kernel.ok("print(np.array([1 / 3]))", c[1]).text(c[1]) == "[0.33]\n"
    edit = kernel.ok("import numpy as np", c[0])
    assert edit.text(c[1]) == "[0.33333333]\n"


def test_an_edited_print_option_re_runs_a_cell_binding_and_showing_an_array(
        kernel: KernelHarness) -> None:
    """ElementsOfDataScience (audit 18): ``d = a - b`` then ``d`` below an edited
    ``np.set_printoptions(...)``: the cell binds names and shows an array without
    naming numpy; it re-runs as one showing only does (not with a trailing ``;``)."""
    c = ids("1", "2", "3", "4")
    kernel.ok("import numpy as np\nbs_a = np.array([1.23456, 2.5])", c[0])
    kernel.ok("np.set_printoptions(precision=2)", c[1])
    assert kernel.ok("bs_d = bs_a / 3\nbs_d", c[2]).text(c[2]) == "array([0.41, 0.83])\n"
    kernel.ok("bs_e = bs_a * 7\nbs_e;", c[3])
    edit = kernel.ok("np.set_printoptions(precision=4)", c[1])
    assert c[2] in edit.reactive["ran"] and c[3] not in edit.reactive["ran"]
    assert edit.text(c[2]) == "array([0.4115, 0.8333])\n"
    kernel.ok("pass", c[1])


def test_a_chain_of_setters_re_runs_when_the_first_is_taken_out(
        kernel: KernelHarness) -> None:
    """Each setter cell below leaves another state when one above changes: the
    readers of the module below each of them re-run, as do the setters
    themselves (``import numpy as np`` emptied of its setter re-binds the very
    module object, yet leaves another state)."""
    c = ids("1", "2", "3", "4", "5")
    kernel.ok("import numpy as np", c[0])
    kernel.ok("import numpy as np\nnp.set_printoptions(precision=3)", c[1])
    kernel.ok("np.set_printoptions(suppress=True)\nprint(np.array([1 / 3]))", c[2])
    kernel.ok("np.set_printoptions(linewidth=100)\nprint(np.array([2 / 3]))", c[3])
    assert kernel.ok("print(np.array([1e-9]))", c[4]).text(c[4]) == "[0.]\n"
    edit = kernel.ok("import numpy as np", c[1])
    assert edit.text(c[2]) == "[0.33333333]\n"
    assert edit.text(c[3]) == "[0.66666667]\n"
    assert edit.text(c[4]) == "[0.]\n"
    kernel.ok("pass", c[2])
    assert kernel.value("np.get_printoptions()['suppress']") == "False"
    kernel.ok("pass", c[3])


def test_precision_below_does_not_undo_numpy_precision_above(kernel: KernelHarness) -> None:
    """IPython's ``%precision`` sets numpy's precision too: a re-run cell above a
    ``%precision 2`` gets numpy's own setting from above, not the default."""
    c = ids("1", "2", "3", "4")
    kernel.ok("import numpy as np\nnp.set_printoptions(precision=4)", c[0])
    assert kernel.ok("pr_a = np.array([1 / 3])\npr_a", c[1]).text(c[1]) == "array([0.3333])\n"
    kernel.ok("%precision 2", c[2])
    edit = kernel.ok("pr_a = np.array([2 / 3])\npr_a", c[1])
    assert edit.text(c[1]) == "array([0.6667])\n"
    kernel.ok("%precision", c[2])
    kernel.ok("np.set_printoptions(precision=8)", c[3])


def test_a_plot_above_a_seaborn_objects_theme_change_is_drawn_with_the_default_theme(
        kernel: KernelHarness) -> None:
    """``so.Plot.config.theme.update(...)`` at the end of seaborn's objects
    tutorial: the plots above it, re-run, are drawn as top to bottom draws them."""
    c = ids("1", "2", "3", "4")
    kernel.ok("import seaborn.objects as so\nso_xs = [1, 2, 3]", c[0])
    plot = "so.Plot(x=so_xs, y=[3, 1, 2]).add(so.Line())"
    first = kernel.ok(plot, c[1])
    image = result(first, c[1])["image/png"]
    kernel.ok("so.Plot.config.theme.update({'axes.facecolor': 'red'})", c[2])
    red = kernel.ok(plot, c[3])
    again = kernel.ok("import seaborn.objects as so\nso_xs = [1, 2, 3]\nso_n = 1", c[0])
    assert c[1] in again.reactive["ran"]
    assert result(again, c[1])["image/png"] == image
    assert result(red, c[3])["image/png"] != image
    kernel.ok("pass", c[2])
    assert kernel.value("so.Plot.config.theme['axes.facecolor']") != "'red'"


def test_a_file_written_by_a_cell_links_it_to_the_cells_naming_the_file(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """``open(p, 'w')``, ``savefig(p)`` and ``%%writefile p`` write a file; a cell
    naming it below (``open(p)``, ``!cat p``, ``%run p``) re-runs when its writer
    re-runs, as a run from the top shows the new file.  Writers of the same file
    do not read each other's."""
    c = ids("0", "1", "2", "3", "4", "5", "6", "7", "8")
    kernel.ok(f"import os\nos.chdir({str(tmp_path)!r})", c[0])
    kernel.ok("fw_n = 3", c[1])
    kernel.ok("with open('fw_out.txt', 'w') as f:\n    f.write(str(fw_n))", c[2])
    assert kernel.ok("print(open('fw_out.txt').read())", c[3]).text(c[3]) == "3\n"
    assert kernel.ok("!cat fw_out.txt", c[4]).text(c[4]).strip() == "3"
    kernel.ok("%%writefile fw_helper.py\nprint('helper', 1)", c[5])
    assert kernel.ok("%run fw_helper.py", c[6]).text(c[6]) == "helper 1\n"
    edit = kernel.ok("fw_n = 4", c[1])
    assert edit.text(c[3]) == "4\n"
    assert edit.text(c[4]).strip() == "4"
    assert set(edit.reactive["ran"]) == {c[1], c[2], c[3], c[4]}
    edit = kernel.ok("%%writefile fw_helper.py\nprint('helper', 2)", c[5])
    assert edit.text(c[6]) == "helper 2\n"
    # Two cells saving the same figure file do not read each other's; after an edit
    # of the first, the second runs again so that the file is the last writer's.
    kernel.ok("import matplotlib.pyplot as plt\nplt.plot([fw_n]); plt.savefig('fw.png')", c[7])
    kernel.ok("plt.plot([1, 2]); plt.savefig('fw.png')", c[8])
    again = kernel.ok("import matplotlib.pyplot as plt\nplt.plot([fw_n, 0]); plt.savefig('fw.png')",
                      c[7])
    assert again.reactive["ran"] == [c[7], c[8]] and again.reactive["restored"] == [c[8]]
    kernel.ok("pass", c[0])


def test_a_module_the_notebook_writes_is_imported_anew_when_its_file_changes(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """Audit 20 (Pierian's unit-testing lesson): ``%%writefile helper.py`` then
    ``import helper`` (or ``from helper import f``, or a script importing it run
    by ``%run``): an edit of the module's cell re-runs the importing cells, which
    load the file as it now is (Python would hand back the module loaded
    before), and their readers show the new code, as a run from the top."""
    c = ids("0", "1", "2", "3", "4", "5", "6", "7")
    kernel.ok(f"import os\nos.chdir({str(tmp_path)!r})", c[0])
    kernel.ok("%%writefile mw_helper.py\ndef f():\n    return 1", c[1])
    kernel.ok("import mw_helper", c[2])
    assert kernel.ok("print(mw_helper.f())", c[3]).text(c[3]) == "1\n"
    kernel.ok("from mw_helper import f as mw_f", c[4])
    assert kernel.ok("print(mw_f())", c[5]).text(c[5]) == "1\n"
    kernel.ok("%%writefile mw_use.py\nimport mw_helper\nprint('use', mw_helper.f())", c[6])
    assert kernel.ok("%run mw_use.py", c[7]).text(c[7]) == "use 1\n"
    edit = kernel.ok("%%writefile mw_helper.py\ndef f():\n    return 2", c[1])
    assert edit.text(c[3]) == "2\n" and edit.text(c[5]) == "2\n"
    assert edit.text(c[7]) == "use 2\n"
    assert set(edit.reactive["ran"]) == {c[1], c[2], c[3], c[4], c[5], c[6], c[7]}
    # Run again by hand, the file unchanged, the import keeps the module (the
    # readers see the same object: nothing re-runs); other cells importing it
    # share it, as from the top (the review of 2026-12-06: each import cell
    # made a module of its own, and state set through one was lost).
    again = kernel.ok("import mw_helper", c[2])
    assert again.reactive["ran"] == [c[2]]
    kernel.ok("mw_helper.state = []\nmw_helper.state.append(1)", c[3])
    kernel.ok("from mw_helper import f as mw_f", c[4])
    shared = kernel.ok("import mw_helper as mw_again\nprint(mw_again.state)", c[5])
    assert shared.text(c[5]) == "[1]\n"
    kernel.ok("pass", c[0])


def test_a_cell_reloading_a_module_the_notebook_writes_reads_its_file(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """``importlib.reload(helper)`` below ``%%writefile helper.py`` loads the
    file again: an edit of the writer above it re-runs it, and a re-run for an
    edit of a writer further up reloads the file of the nearest writer above,
    as a run from the top (it read no file: it kept showing the old code, or
    reloaded the upper writer's file)."""
    c = ids("0", "1", "2", "3", "4")
    kernel.ok(f"import os\nos.chdir({str(tmp_path)!r})", c[0])
    kernel.ok("%%writefile rl_helper.py\ndef f():\n    return 1", c[1])
    kernel.ok("import rl_helper", c[2])
    kernel.ok("%%writefile rl_helper.py\ndef f():\n    return 2", c[3])
    reload = "import importlib\nimportlib.reload(rl_helper)\nprint('reload', rl_helper.f())"
    assert kernel.ok(reload, c[4]).text(c[4]) == "reload 2\n"
    edit = kernel.ok("%%writefile rl_helper.py\ndef f():\n    return 3", c[3])
    assert edit.text(c[4]) == "reload 3\n"
    edit = kernel.ok("%%writefile rl_helper.py\ndef f():\n    return 5", c[1])
    assert c[4] in edit.reactive["ran"]
    assert edit.text(c[4]) == "reload 3\n"
    kernel.ok("pass", c[0])


def test_the_modules_a_cell_reloads() -> None:
    from reactive_kernel.files import reloads

    assert reloads("import importlib\nimportlib.reload(helper)") == {"helper"}
    assert reloads("from importlib import reload\nreload(pkg.sub)") == {"pkg"}
    assert reloads("x = 'reload(helper)'") == frozenset()
    assert reloads("reload()") == frozenset()


def test_the_modules_a_cell_imports() -> None:
    from reactive_kernel.files import imports, module_of

    assert imports("import a.b, c as d\nfrom e.f import g\nfrom . import h") == {"a", "c", "e"}
    assert imports("%%writefile s.py\nimport helper\nprint(helper.f())") == {"helper"}
    assert imports("%%writefile notes.txt\nimport helper") == frozenset()
    assert imports("x = 'import helper'") == frozenset()
    assert module_of("helper.py") == "helper"
    assert module_of("lib/helper.py") is None and module_of("my-helper.py") is None
    assert module_of("data.csv") is None


def test_the_paths_a_cell_writes_and_the_cells_naming_them() -> None:
    from reactive_kernel.files import names_path, written

    assert written("plt.savefig('fig.png', dpi=80)") == {"fig.png": 1}
    assert written("df.to_csv('./out/clean.csv', index=False)") == {"out/clean.csv": 1}
    assert written("np.save('a.npy', a)\ntorch.save(model, 'm.pt')") == {"a.npy": 1, "m.pt": 1}
    assert written("joblib.dump(clf, filename='clf.pkl')") == {"clf.pkl": 1}
    assert written("with open('log.txt', 'w') as f:\n    f.write('x')") == {"log.txt": 1}
    assert written("open('log.txt', 'a').write('x')") == {}  # adds to it: no new version
    assert written("open('data.csv').read()") == {}  # a read
    assert written("Path('notes.md').write_text(s)") == {"notes.md": 1}
    assert written("%%writefile helper.py\nx = 1") == {"helper.py": 1}
    assert written("df.to_csv(f'out_{i}.csv')\nplt.savefig(name)") == {}  # not literal
    assert written("x = 'fig.png'") == {}
    # A deletion makes a new version (none) and reads the file: its mention counts.
    assert written("os.remove('tmp.txt')\nPath('t2.txt').unlink()") == {"tmp.txt": 0, "t2.txt": 0}
    assert names_path("os.remove('tmp.txt')", "tmp.txt", {"tmp.txt": 0})
    assert written("names.remove('tmp.txt')") == {}
    own = written("plt.savefig('fig.png')")
    assert not names_path("plt.savefig('fig.png')", "fig.png", own)
    assert names_path("Image('fig.png')", "fig.png", {})
    assert names_path("!ls -lh fig.png", "fig.png", {})
    assert names_path("pd.read_csv('data/fig.png')", "fig.png", {})  # (over-approximated)
    assert not names_path("Image('myfig.png')", "fig.png", {})
    assert not names_path("Image('fig.png.bak')", "fig.png", {})


def test_a_file_written_twice_is_the_last_writers_after_a_cascade(
        kernel: KernelHarness, tmp_path: Path) -> None:
    c = ids("0", "1", "2", "3", "4", "5")
    kernel.ok(f"import os\nos.chdir({str(tmp_path)!r})", c[0])
    kernel.ok("tw_n = 1", c[1])
    kernel.ok("open('tw.txt', 'w').write('A')", c[2])
    kernel.ok("print(open('tw.txt').read(), tw_n)", c[3])
    kernel.ok("open('tw.txt', 'w').write('B')", c[4])
    assert kernel.ok("print(open('tw.txt').read())", c[5]).text(c[5]) == "B\n"
    edit = kernel.ok("tw_n = 2", c[1])
    assert edit.text(c[3]) == "A 2\n"  # the upper writer's file, as top to bottom
    assert edit.reactive["ran"][-1] == c[4]  # ... and the last writer's again after
    assert (tmp_path / "tw.txt").read_text() == "B"
    kernel.ok("pass", c[0])


def test_a_figure_format_taken_out_of_the_import_cell_is_undone(kernel: KernelHarness) -> None:
    c = ids("1", "2", "3")
    kernel.ok("%config InlineBackend.figure_format = 'svg'\nimport matplotlib.pyplot as plt", c[0])
    assert mimes(kernel.ok("plt.plot([1]);", c[1]), c[1]) == ["image/svg+xml"]
    edit = kernel.ok("import matplotlib.pyplot as plt", c[0])
    assert edit.reactive["ran"] == [c[0], c[1]] and mimes(edit, c[1]) == ["image/png"]
    assert mimes(kernel.ok("plt.plot([2]);", c[2]), c[2]) == ["image/png"]


def test_a_figure_format_set_before_the_first_figure_belongs_to_its_cell() -> None:
    """In a fresh kernel ``%config`` only writes the configuration until the inline
    backend starts at the first figure: the change is its cell's, not that figure's."""
    fresh = KernelHarness("reactive")
    try:
        fresh.ok("%config InlineBackend.figure_format = 'svg'\nimport matplotlib.pyplot as plt",
                 "f1")
        assert mimes(fresh.ok("plt.plot([1]);", "f2"), "f2") == ["image/svg+xml"]
        edit = fresh.ok("import matplotlib.pyplot as plt", "f1")
        assert edit.reactive["ran"] == ["f1", "f2"] and mimes(edit, "f2") == ["image/png"]
    finally:
        fresh.close()


def test_a_pandas_option_set_through_a_function_of_another_cell_is_its_callers(
        kernel: KernelHarness) -> None:
    c = ids("1", "2", "3", "4", "5", "6", "7")
    kernel.ok("import pandas as pd", c[0])
    kernel.ok("def ph_setup():\n    pd.set_option('display.max_rows', 4)", c[1])
    kernel.ok("ph_setup()", c[2])
    kernel.ok("ph_df = pd.DataFrame({'a': range(10)})", c[3])
    assert "\n.. " in kernel.ok("ph_df", c[4]).text(c[4])  # truncated to 4 rows
    kernel.ok("pd.set_option('display.precision', 2)", c[5])
    edit = kernel.ok("ph_df = pd.DataFrame({'a': range(11)})", c[3])
    assert "\n.. " in edit.text(c[4]) and "[11 rows x 1 columns]" in edit.text(c[4])
    kernel.ok("pass", c[2])
    kernel.ok("pass", c[5])
    assert kernel.value("pd.get_option('display.max_rows')") == "60"


def test_a_precision_set_again_below_holds_when_the_first_is_taken_out(
        kernel: KernelHarness) -> None:
    c = ids("1", "2", "3", "4", "5")
    kernel.ok("pt_x = 1 / 3", c[0])
    kernel.ok("%precision 2", c[1])
    kernel.ok("pt_x", c[2])
    kernel.ok("%precision 2", c[3])
    kernel.ok("pass", c[1])
    assert kernel.ok("pt_x", c[4]).text(c[4]) == "0.33\n"
    kernel.ok("pass", c[3])
    assert kernel.ok("pt_x", c[4]).text(c[4]) == "0.3333333333333333\n"


def test_a_setting_reaches_the_readers_below_an_import_of_the_module_again(
        kernel: KernelHarness) -> None:
    """pydata-book's chapter 9 sets ``plt.rc`` in its first cell and imports pyplot
    again in the next: an edited setting re-runs that import and the cells below
    reading ``plt`` through it."""
    c = ids("1", "2", "3", "4")
    kernel.ok("import matplotlib.pyplot as plt", c[0])
    kernel.ok("plt.rc('figure', figsize=(10, 6))", c[1])
    kernel.ok("import matplotlib.pyplot as plt", c[2])
    assert kernel.ok("plt.figure()", c[3]).text(c[3]).startswith("<Figure size 1000x600")
    edit = kernel.ok("plt.rc('figure', figsize=(8, 5))", c[1])
    assert edit.text(c[3]).startswith("<Figure size 800x500")
    kernel.ok("pass", c[1])
    assert kernel.ok("plt.figure()", c[3]).text(c[3]).startswith("<Figure size 640x480")


def test_a_client_running_every_cell_itself_gets_no_extra_writer_run(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """With ``reactiveCascade: false`` (the web UI's Run All) the last writer of a
    file is not run again for another writer of it: its own request comes next."""
    c = ids("0", "1", "2")
    kernel.ok(f"import os\nos.chdir({str(tmp_path)!r})", c[0])
    kernel.ok("open('solo.txt', 'w').write('A')", c[1])
    kernel.ok("open('solo.txt', 'w').write('B')", c[2])
    msg = kernel.kc.session.msg("execute_request", {
        "code": "open('solo.txt', 'w').write('A')", "silent": False, "store_history": True,
        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        metadata={"cellId": c[1], "reactiveCascade": False})
    kernel.kc.shell_channel.send(msg)
    assert kernel.collect(msg).reactive["ran"] == [c[1]]
    assert (tmp_path / "solo.txt").read_text() == "A"
    # Run by a client that leaves the cascade to the kernel, the last writer runs again.
    assert kernel.ok("open('solo.txt', 'w').write('A')", c[1]).reactive["ran"] == [c[1], c[2]]
    assert (tmp_path / "solo.txt").read_text() == "B"
    kernel.ok("pass", c[0])


def test_through_the_server_a_re_run_reads_where_it_stands_and_follows_files(
        tmp_path: Path) -> None:
    """End to end as ``make run`` serves it (the server, a kernel from the installed
    kernelspec, the web UI's WebSocket protocol with cell ids): an edit re-runs a cell
    above a ``%cd`` in the notebook's folder, and a cell reading a file below the
    cell that wrote it."""
    from .server_harness import ServerProcess, WSClient, execute, run, start_kernel

    (tmp_path / "sub").mkdir()
    (tmp_path / "data.txt").write_text("top")
    (tmp_path / "sub" / "data.txt").write_text("sub")
    server = ServerProcess(tmp_path)
    try:
        kernel_id = start_kernel(server)

        async def scenario() -> tuple[str, str]:
            client = await WSClient.connect(server, kernel_id)
            try:
                cells = ["print(open('data.txt').read(), se_n)", "%cd sub",
                         "open('out.txt', 'w').write(str(se_n * 10))",
                         "print(open('out.txt').read())"]
                await client.run(execute("se_n = 1", "s0"))
                for i, code in enumerate(cells, 1):
                    await client.run(execute(code, f"s{i}"))
                client.received.clear()
                reply = await client.run(execute("se_n = 2", "s0"))
                assert set(reply["metadata"]["reactive"]["ran"]) == {"s0", "s1", "s3", "s4"}
                return client.texts("s1"), client.texts("s4")
            finally:
                client.close()

        assert run(scenario()) == ("top 2\n", "20\n")
        assert (tmp_path / "sub" / "out.txt").read_text() == "20"
    finally:
        server.stop()


def test_a_cell_binding_names_and_drawing_through_pandas_follows_the_style_above(
        kernel: KernelHarness) -> None:
    """``df = pd.DataFrame(...)`` then ``df.plot.bar()``, or ``ax = df.plot()``, in
    one cell: no ``plt`` name, yet drawn with matplotlib's style.  An edited style
    above re-draws them, as top to bottom would; a cell changing what it reads
    through a call (``bump(dp_q)``) is not re-run for a style: it would change
    it twice."""
    c = ids("1", "2", "3", "4", "5")
    kernel.ok("import matplotlib.pyplot as plt\nimport pandas as pd\n"
              "def bump(d):\n    d['a'] += 1\ndp_q = pd.DataFrame({'a': [1, 2]})", c[0])
    kernel.ok("plt.rcParams['lines.linewidth'] = 1.0", c[1])
    first = kernel.ok("dp_df = pd.DataFrame({'a': [1, 3, 2]})\ndp_ax = dp_df.plot()\n"
                      "dp_ax.set_title('t')", c[2])
    assert mimes(first, c[2]) == ["image/png"]
    kernel.ok("dp_n = len(dp_ax.lines)", c[3])
    kernel.ok("bump(dp_q)\ndp_q.plot();", c[4])
    edit = kernel.ok("plt.rcParams['lines.linewidth'] = 6.0", c[1])
    assert c[2] in edit.reactive["ran"] and c[3] in edit.reactive["ran"]
    assert mimes(edit, c[2]) == ["image/png"]
    assert images(first, c[2]) != images(edit, c[2])
    assert c[4] not in edit.reactive["ran"]
    assert kernel.value("dp_q['a'].tolist()") == "[2, 3]"
    kernel.ok("pass", c[1])


def test_globals_of_the_notebooks_own_module_follow_notebook_order(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """ThinkStats2's ``thinkplot.Config(loc=...)`` sets ``thinkplot.LOC`` with
    ``global LOC``: a plot re-run above that cell must not get the legend place
    set below it (audit 15, chap10), and an edited ``Config`` call re-runs the
    cells below reading the module."""
    (tmp_path / "lm_helper.py").write_text(
        "LOC = None\n\ndef config(loc=None):\n    global LOC\n    if loc is not None:\n"
        "        LOC = loc\n\ndef where():\n    return LOC\n")
    c = ids("0", "1", "2", "3", "4")
    kernel.ok(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nimport lm_helper", c[0])
    kernel.ok("lm_n = 1", c[1])
    assert kernel.ok("print(lm_n, lm_helper.where())", c[2]).text(c[2]) == "1 None\n"
    kernel.ok("lm_helper.config(loc='upper left')", c[3])
    assert kernel.ok("print(lm_helper.where())", c[4]).text(c[4]) == "upper left\n"
    edit = kernel.ok("lm_n = 2", c[1])
    assert edit.text(c[2]) == "2 None\n"
    assert kernel.value("lm_helper.LOC") == "'upper left'"
    edit = kernel.ok("lm_helper.config(loc='best')", c[3])
    assert edit.reactive["ran"] == [c[3], c[4]]
    assert edit.text(c[4]) == "best\n"
    edit = kernel.ok("pass", c[3])
    assert edit.text(c[4]) == "None\n"
    assert kernel.value("lm_helper.LOC") == "None"


def test_only_modules_loaded_from_outside_the_libraries_are_the_notebooks_own(
        tmp_path: Path) -> None:
    import importlib
    import sys

    from reactive_kernel.settings import LocalModules

    sys.modules.pop("colorsys", None)
    sys.modules.pop("reactive_kernel.sql.display", None)
    provider = LocalModules()
    assert provider.read() is None
    # The kernel's own modules loaded late (it is installed in place for tests).
    importlib.import_module("reactive_kernel.sql.display")
    assert provider.read() is None
    (tmp_path / "lm_own.py").write_text("X = 1\ndef f():\n    return X\n")
    # Another environment's packages, reached through a .pth or PYTHONPATH.
    other = tmp_path / "env" / "lib" / "site-packages"
    other.mkdir(parents=True)
    (other / "lm_lib.py").write_text("Y = 1\n")
    sys.path[:0] = [str(tmp_path), str(other)]
    try:
        importlib.import_module("lm_lib")
        own = importlib.import_module("lm_own")
        importlib.import_module("colorsys")  # the standard library's: not the notebook's
        state = provider.read()
        assert state is not None and state["lm_own:X"] == 1
        assert not any(k.startswith(("colorsys:", "lm_lib:")) for k in state)
        assert "lm_own:f" not in state  # its code, not its state
        assert provider.packages == {"lm_own"}
        own.X = 2
        after = provider.read()
        assert after is not None and provider.changed(state, after) == {"lm_own"}
        provider.write({"lm_own:X": 1}, state)
        assert own.f() == 1
    finally:
        sys.path.remove(str(tmp_path))
        sys.path.remove(str(other))
        sys.modules.pop("lm_own", None)
        sys.modules.pop("lm_lib", None)


def test_a_setting_made_unseen_through_a_helper_module_re_runs_the_cells_below(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """ThinkBayes2's ``set_pyplot_params()`` (audit 16, T26) sets ``rcParams`` in a
    ``utils.py`` the analysis does not read: the run shows the change, so the cell
    changes ``plt`` in place, and the cells below reading it re-run when it is
    edited or emptied."""
    (tmp_path / "gp_utils.py").write_text(
        "import matplotlib.pyplot as plt\n\ndef setup(w):\n"
        "    plt.rcParams['lines.linewidth'] = w\n")
    c = ids("0", "1", "2")
    kernel.ok(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\n"
              "import matplotlib.pyplot as plt\nfrom gp_utils import setup", c[0])
    default = kernel.value("plt.rcParams['lines.linewidth']")
    kernel.ok("setup(5.0)", c[1])
    assert kernel.ok("print(plt.rcParams['lines.linewidth'])", c[2]).text(c[2]) == "5.0\n"
    assert kernel.ok("setup(2.0)", c[1]).text(c[2]) == "2.0\n"
    assert kernel.ok("pass", c[1]).text(c[2]) == f"{default}\n"


def test_a_plot_cell_edited_re_runs_alone(kernel: KernelHarness) -> None:
    """Drawing a first figure loads matplotlib's backends and Pillow: none of that
    is the notebook's own module or a setting the cell made, so an edited plot
    re-runs nothing below it (audit 16 re-check: every plot cell re-ran)."""
    c = ids("1", "2", "3")
    kernel.ok("import matplotlib.pyplot as plt", c[0])
    kernel.ok("plt.bar(['a', 'b'], [1, 3]);", c[1])
    kernel.ok("plt.plot([1, 2]);", c[2])
    assert kernel.ok("plt.bar(['a', 'b'], [1, 4]);", c[1]).reactive["ran"] == [c[1]]


def test_settings_of_inputs_without_a_cell_id_that_link_nothing_hold(
        fresh_kernel: KernelHarness, tmp_path: Path) -> None:
    """nbclient, papermill and consoles send no cell ids: an input defining and
    reading no name (``%cd sub``, ``%precision 2``, ``%config InlineBackend...``,
    a star import of a module setting ``rcParams`` when loaded) runs once, kept
    nowhere, and what it set must hold for the inputs after it, as in stock
    (audit 17: the settings went back as the next input finished)."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "nid_style.py").write_text(
        "import matplotlib.pyplot as plt\nplt.rcParams['figure.dpi'] = 75\n")
    k = fresh_kernel
    k.ok(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})")
    k.ok(f"%cd {tmp_path}/sub")
    assert k.ok("import os\nos.path.basename(os.getcwd())").text() == "'sub'\n"
    k.ok("%precision 2")
    assert k.ok("3.14159").text() == "3.14\n"
    k.ok("from nid_style import *")
    assert k.ok("import matplotlib as mpl\nmpl.rcParams['figure.dpi']").text() == "75.00\n"
    k.ok("%config InlineBackend.figure_format = 'svg'")
    drawn = k.ok("plt.plot([1, 2]);")
    assert [m for m in drawn.outputs() if "image/svg+xml" in m["content"].get("data", {})]
    # Still so after an input that is kept (it defines a name).
    k.ok("nid_x = 1")
    assert k.ok("print(os.path.basename(os.getcwd()), mpl.rcParams['figure.dpi'])").text() \
        == "sub 75.0\n"


def test_settings_a_module_made_when_loaded_hold_when_its_import_runs_again(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """A module beside the notebook setting ``rcParams`` when loaded (``from
    preamble import *``): its import run again takes the module from the cache
    and sets nothing, but top to bottom the cell does set them (audit 17: a
    re-run, or ``np.random.seed(17)`` below a star import re-running it, put
    matplotlib's defaults back).  Edited to import it no more, it sets nothing."""
    (tmp_path / "lt_style.py").write_text(
        "import matplotlib as mpl\nmpl.rcParams['lines.markersize'] = 3.5\n")
    c = ids("0", "1", "2", "3")
    kernel.ok(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})", c[0])
    kernel.ok("from lt_style import *", c[1])
    # (A module changed in place gets nothing fresh from its import run again.)
    assert kernel.ok("import numpy as np\nnp.random.seed(17)", c[2]).reactive["ran"] == [c[2]]
    assert kernel.ok("mpl.rcParams['lines.linewidth'] = 1.5", c[2]).reactive[
        "ran"] == [c[2]]
    kernel.ok("pass", c[2])
    probe = "import matplotlib as mpl\nprint(mpl.rcParams['lines.markersize'])"
    assert kernel.ok(probe, c[3]).text(c[3]) == "3.5\n"
    kernel.ok("from lt_style import *", c[1])
    assert kernel.ok(probe, c[3]).text(c[3]) == "3.5\n"
    edit = kernel.ok("from lt_style import *\nimport math", c[1])
    assert kernel.ok(probe, c[3]).text(c[3]) == "3.5\n", edit.reactive
    kernel.ok("import math", c[1])
    assert kernel.ok(probe, c[3]).text(c[3]) == "6.0\n"
    kernel.ok("from lt_style import *", c[1])  # back: from the cache, setting it again
    assert kernel.ok(probe, c[3]).text(c[3]) == "3.5\n"
    kernel.ok("pass", c[1])


def test_a_cell_that_drew_a_figure_naming_no_plotting_module_follows_a_style(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """``pmf.plot()``, ``nx.draw(G)``, a helper module's ``draw(v)``: a cell drawing
    through a library names no plotting module, yet draws with matplotlib's
    settings.  Having drawn a figure (binding nothing, changing nothing), it
    reads the plotting modules bound above it: an edited style re-draws it
    (audit 16 T26, audit 17 T3).  A cell that drew and binds a name is left as
    it is (re-running it would make its names anew)."""
    (tmp_path / "fd_plots.py").write_text(
        "import matplotlib.pyplot as plt\n\ndef draw(v):\n    plt.figure()\n"
        "    plt.plot(v)\n    return len(v)\n")
    c = ids("0", "1", "2", "3")
    kernel.ok(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nimport fd_plots\n"
              "import matplotlib.pyplot as plt", c[0])
    kernel.ok("plt.rcParams['lines.linewidth'] = 6.0", c[1])
    first = kernel.ok("fd_plots.draw([1, 3, 2])", c[2])
    assert mimes(first, c[2]) == ["image/png"]
    kernel.ok("fd_n = fd_plots.draw([1, 3, 2])", c[3])
    edit = kernel.ok("plt.rcParams['lines.linewidth'] = 1.0", c[1])
    assert edit.reactive["ran"] == [c[1], c[2]]
    assert images(edit, c[2]) and images(edit, c[2]) != images(first, c[2])
    kernel.ok("pass", c[1])


def test_a_figure_drawn_through_helpers_follows_settings_no_cell_names(
        fresh_kernel: KernelHarness, tmp_path: Path) -> None:
    """ThinkBayes2's chapters: ``set_pyplot_params()`` of its ``utils.py`` sets
    ``rcParams`` in the cell that first loads matplotlib, and ``pmf.plot()`` cells
    below never name a plotting module; no cell binds one.  Figures follow the
    settings through ``<figures>``, defined by every cell changing them and read
    by every cell that drew a figure: taking the call out re-draws the plot
    (audit 16 T26), and so does a style cell inserted above it.  (A kernel of
    its own: the order it sends is the whole notebook's.)"""
    kernel = fresh_kernel
    (tmp_path / "fg_utils.py").write_text(
        "import matplotlib.pyplot as plt\n\ndef set_params():\n"
        "    plt.rcParams['lines.linewidth'] = 6.0\n\n"
        "def draw(v):\n    plt.figure()\n    plt.plot(v)\n")
    c = ids("0", "1", "2")
    kernel.ok(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})", c[0])
    kernel.ok("import fg_utils\nfg_utils.set_params()", c[1])
    first = kernel.ok("fg_utils.draw([1, 3, 2])", c[2])
    edit = kernel.ok("import fg_utils", c[1])
    assert edit.reactive["ran"] == [c[1], c[2]]
    assert images(edit, c[2]) and images(edit, c[2]) != images(first, c[2])
    style = f"{c[2]}-style"
    graph_request(kernel, order=[c[0], c[1], style, c[2]])  # inserted above the plot
    styled = kernel.ok("import matplotlib.pyplot as fg_plt\n"
                       "fg_plt.rcParams['lines.linewidth'] = 6.0", style)
    assert styled.reactive["ran"] == [style, c[2]]
    assert images(styled, c[2]) == images(first, c[2])
    kernel.ok("pass", style)


def test_a_cell_deleting_a_file_runs_again_after_its_writer(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """pydata-book ch03 (audit 17): ``open('tmp.txt', 'w')...`` then
    ``os.remove('tmp.txt')``.  Run again, the deletion would find no file;
    top to bottom it does: its writer runs again first."""
    c = ids("0", "1", "2", "3")
    kernel.ok(f"import os\nos.chdir({str(tmp_path)!r})", c[0])
    kernel.ok("with open('rm.txt', 'w') as f:\n    f.write('x')", c[1])
    kernel.ok("os.remove('rm.txt')", c[2])
    assert kernel.ok("print(os.path.exists('rm.txt'))", c[3]).text(c[3]) == "False\n"
    again = kernel.ok("os.remove('rm.txt')", c[2])
    assert again.reactive["restored"] == [c[1]] and not (tmp_path / "rm.txt").exists()
    kernel.ok("pass", c[0])


def _rows(text: str) -> int:
    """The data rows a DataFrame's text shows."""
    return sum(1 for line in text.splitlines() if re.match(r"\d+ ", line))


def test_a_pandas_option_set_through_a_method_or_a_helper_modules_function_is_its_callers(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """A pandas option set by a method of the notebook's own class, or by a
    function of a module beside it, belongs to the cell calling it: a cell above
    re-run does not see it, and taken out it is undone (the review of
    2026-12-06: pandas' options were read only around cells whose code, or a
    called cell function's, mentions options)."""
    (tmp_path / "po_help.py").write_text(
        "import pandas as pd\n\ndef rows(n):\n    pd.set_option('display.max_rows', n)\n")
    c = ids("0", "1", "2", "3", "4")
    first = (f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nimport pandas as pd\n"
             "import po_help\nfrom po_help import rows as po_rows\n"
             "po_df = pd.DataFrame({'x': range(80)})")
    kernel.ok(first, c[0])
    kernel.ok("class PoCfg:\n    def apply(self, n):\n"
              "        pd.set_option('display.max_rows', n)\npo_cfg = PoCfg()", c[1])
    assert _rows(kernel.ok("po_df", c[2]).text(c[2])) == 10
    for setter in ("po_cfg.apply(6)", "po_help.rows(6)", "po_rows(6)"):
        kernel.ok(setter, c[3])
        assert _rows(kernel.ok("po_df", c[4]).text(c[4])) == 6, setter
        edit = kernel.ok(first.replace("range(80)", "range(81)"), c[0])
        assert _rows(edit.text(c[2])) == 10 and _rows(edit.text(c[4])) == 6, setter
        undone = kernel.ok("pass", c[3])
        assert _rows(undone.text(c[4])) == 10, setter
        kernel.ok(first, c[0])
    assert kernel.value("pd.get_option('display.max_rows')") == "60"


def test_a_precision_written_back_leaves_numpy_to_its_own_setting(
        kernel: KernelHarness) -> None:
    """IPython's ``%precision`` sets numpy's print precision as well: put back
    for a re-run cell below a cell holding ``%precision 3`` then
    ``np.set_printoptions(precision=8)``, it must not leave numpy at 3 (the
    review of 2026-12-06)."""
    c = ids("0", "1", "2")
    kernel.ok("import numpy as np\npq_n = 3", c[0])
    kernel.ok("%precision 3\nnp.set_printoptions(precision=8)", c[1])
    wide = "[0.         0.33333333 0.66666667]\n"
    assert kernel.ok("print(np.arange(pq_n) / 3)", c[2]).text(c[2]) == wide
    edit = kernel.ok("import numpy as np\npq_n = 4", c[0])
    assert edit.text(c[2]) == "[0.         0.33333333 0.66666667 1.        ]\n"
    assert kernel.value("np.get_printoptions()['precision']") == "8"
    kernel.ok("pass", c[1])
    assert kernel.value("np.get_printoptions()['precision']") == "8"


def test_a_setting_in_a_module_loaded_again_from_its_rewritten_file_is_undone(
        kernel: KernelHarness, tmp_path: Path) -> None:
    """A module of the notebook's own, imported anew after its ``%%writefile``
    cell changed it, is the one whose globals are followed: a global set
    through it and taken out is undone (the review of 2026-12-06: the old
    module stayed tracked)."""
    c = ids("0", "1", "2", "3", "4", "5")
    write = "%%writefile lr_mod.py\nLOC = {!r}\ndef config(loc):\n    global LOC\n    LOC = loc\n"
    kernel.ok(f"import os\nos.chdir({str(tmp_path)!r})", c[0])
    kernel.ok(write.format("a"), c[1])
    kernel.ok("import lr_mod", c[2])
    kernel.ok("print(lr_mod.LOC)", c[3])
    kernel.ok("lr_mod.config('b')", c[4])
    assert kernel.ok("print(lr_mod.LOC)", c[5]).text(c[5]) == "b\n"
    edit = kernel.ok(write.format("z"), c[1])
    assert edit.text(c[3]) == "z\n" and edit.text(c[5]) == "b\n"
    undone = kernel.ok("pass", c[4])
    assert undone.text(c[5]) == "z\n"
    kernel.ok("pass", c[0])


def test_a_reset_of_all_rc_params_above_the_first_plot_leaves_the_plots_shown(
        fresh_kernel: KernelHarness) -> None:
    """``plt.rcParams.update(plt.rcParamsDefault)`` or seaborn's ``reset_orig()``
    set ``interactive`` off too.  Top to bottom, above the first figure, that
    changes nothing: the inline backend starts at the first figure and turns it
    on; so an edit making the cell above the plots such a reset re-runs them
    showing their figures, not nothing (audit 26).  Below a figure, it turns
    the inline backend's showing off, in stock as here."""
    k, c = fresh_kernel, ids("1", "2", "3", "4", "5")
    k.ok("import matplotlib.pyplot as plt", c[0])
    k.ok("ar_n = 1", c[1])
    assert mimes(k.ok("plt.plot([1, ar_n]);", c[2]), c[2]) == ["image/png"]
    edit = k.ok("ar_n = 2\nplt.rcParams.update(plt.rcParamsDefault)", c[1])
    assert edit.reactive["ran"] == [c[1], c[2]]
    assert mimes(edit, c[2]) == ["image/png"]
    assert k.value("plt.get_fignums()") == "[]"
    # Below the first figure it is stock's: the figures below are not shown.
    k.ok("plt.rcParams.update(plt.rcParamsDefault)", c[3])
    assert mimes(k.ok("plt.plot([2, 1]);", c[4]), c[4]) == []


def test_a_plot_above_a_reset_of_all_rc_params_is_shown_when_re_run(
        fresh_kernel: KernelHarness) -> None:
    """``saved = plt.rcParams.copy()`` before the first figure keeps ``interactive``
    off; ``plt.rcParams.update(saved)`` below a plot turns it off, hiding the
    plots below it, in stock too.  The first plot, re-run for an edited style
    above it, is drawn with it on, as top to bottom (the backend starting
    there turns it on), not hidden by what the cell below left."""
    k, c = fresh_kernel, ids("1", "2", "3", "4")
    k.ok("import matplotlib.pyplot as plt\nsaved = plt.rcParams.copy()", c[0])
    k.ok("plt.style.use('ggplot')", c[1])
    assert mimes(k.ok("plt.plot([1, 2]);", c[2]), c[2]) == ["image/png"]
    k.ok("plt.rcParams.update(saved)\nrs_off = not plt.isinteractive()", c[3])
    assert k.value("rs_off") == "True"
    edit = k.ok("plt.style.use('bmh')", c[1])
    assert c[2] in edit.reactive["ran"]
    assert mimes(edit, c[2]) == ["image/png"]
    assert k.value("plt.get_fignums()") == "[]"

"""Settings outside the namespace, as the cells above a cell leave them.

A cell may change state no name holds: the working directory (``os.chdir``,
``%cd``), matplotlib's ``rcParams`` (``plt.style.use``, ``sns.set_theme()``,
``plt.rcParams[...] = ...``), the inline backend's figure formats (``%config
InlineBackend.figure_format = 'svg'``), seaborn's objects theme, numpy's print
options and error handling (``np.seterr``), pandas' display options, IPython's
``%precision``, the ``warnings`` filters and the globals of the notebook's own
modules (:class:`LocalModules`).  Run top to
bottom, a cell sees the settings the cells above it left; re-run in a cascade,
it would see what the cells below left.

:class:`Settings` keeps, per cell, what its latest run changed (each setting
whose value differs after the run, with its new value; a ``%precision`` or
``%cd`` line keeps what it sets even if it was so already) and, before a cell
runs at its position, sets every setting to what the cells above it leave: the
library's defaults (:meth:`Setting.pristine`, when the cell loading the library
also set it) or the first state seen, then each cell's changes in notebook
order.  When a cascade ends, the settings are what all the cells leave, in
notebook order, as after a run from the top (so a setting removed from a cell,
or a deleted cell's, is undone).  The cells a setting re-runs are the graph's
business (a setter is an in-place change of its module; a cell leaving a
module's settings otherwise than its last run, :meth:`Settings.after`, is a new
value of the module for its readers); this module decides what each run sees.

Settings are read after every cell (about 13 µs in all, matplotlib's 10 more),
except pandas' options, read only around cells whose code, or the code of a
function of another cell they call, mentions options.  A setting changed by
something that is no cell's run (a thread, a widget's callback) is taken as the
state the next cell to run leaves.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import re
import sys
import sysconfig
import types
import warnings
from collections.abc import Callable, Mapping

from .graph import CellId, DependencyGraph

State = dict[str, object]


def _same(a: object, b: object) -> bool:
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # an odd value's __eq__: taken as changed
        return False


def _changes(before: Mapping[str, object], after: Mapping[str, object]) -> State:
    try:
        if before == after:  # (at C speed: values compared by identity first)
            return {}
    except Exception:  # a value that cannot say (an array): key by key
        pass
    return {k: v for k, v in after.items() if k not in before or not _same(before[k], v)}


class Setting:
    """One library's (or the process's) settings, as a flat mapping."""

    name = ""
    #: Read only around cells whose code this matches (None: every cell).
    gate: re.Pattern[str] | None = None
    #: The top-level packages whose modules these settings belong to (a cell
    #: leaving them otherwise than its last run changed those modules), or the
    #: pseudo-name standing for them (:data:`PRECISION`).
    packages: frozenset[str] = frozenset()
    #: Code that sets every one of these settings, changed or not (``%precision 2``
    #: below another ``%precision 2``): the cell keeps them all.
    sets: re.Pattern[str] | None = None
    #: Code that sets these settings itself: a cell that loaded modules and
    #: matches nothing of it had them changed by what it loaded, which
    #: :meth:`loaded` may take as a library's import-time change (None: never).
    setters: re.Pattern[str] | None = None

    def read(self) -> State | None:
        """The settings now (None: the library is not loaded)."""
        raise NotImplementedError

    def pristine(self) -> State | None:
        """The settings as the library starts, for a cell that loaded it and set
        some (``import numpy as np; np.set_printoptions(precision=2)``): None if
        unknown (the state after that cell counts as the first)."""
        return None

    def write(self, changes: State, target: State) -> None:
        """Set ``changes`` (the keys of ``target``, the whole state wanted, that
        differ from what is in force)."""
        raise NotImplementedError

    def loaded(self, before: State, state: State, base: State) -> State | None:
        """A cell loaded modules, and its code names nothing that sets these
        settings: if what changed ``before`` to ``state`` is what a library does
        when imported (pandas adds warnings filters), the settings before every
        cell with that change (a re-run importing it from the cache keeps it);
        None: the change is the cell's."""
        return None

    def touched(self, before: State, state: State) -> frozenset[str]:
        """A cell changed ``before`` to ``state`` (both read, not loaded): the
        top-level packages whose modules it changed."""
        return self.packages


#: A pseudo-name for the working directory: defined by the cells changing it
#: (``%cd``, ``os.chdir(...)``), read by them too (``%cd ..`` lands where the
#: cells above left it).
CWD = "<cwd>"


class WorkingDirectory(Setting):
    name = "cwd"
    packages = frozenset({"os", CWD})
    sets = re.compile(r"^[ \t]*%cd\b", re.MULTILINE)

    def read(self) -> State | None:
        try:
            return {"cwd": os.getcwd()}
        except OSError:  # the directory was removed under the kernel
            return None

    def write(self, changes: State, target: State) -> None:
        path = target.get("cwd")
        if isinstance(path, str):
            try:
                os.chdir(path)
            except OSError:
                pass  # gone since: the cell runs where it is, as it would fail anyway


class _NumpyOptions(Setting):
    """numpy options read and set as a whole through a pair of its functions."""

    packages = frozenset({"numpy"})
    getter = ""
    setter = ""

    def read(self) -> State | None:
        get = getattr(sys.modules.get("numpy"), self.getter, None)
        if get is None:
            return None
        try:
            return dict(get())
        except Exception:
            return None

    def write(self, changes: State, target: State) -> None:
        try:
            # Every option: one left out may be reset (``formatter``).
            getattr(sys.modules.get("numpy"), self.setter)(**target)
        except Exception:
            pass


class NumpyPrinting(_NumpyOptions):
    name = "numpy"
    getter = "get_printoptions"
    setter = "set_printoptions"

    def pristine(self) -> State | None:
        get = getattr(sys.modules.get("numpy"), self.getter, None)
        if get is None:
            return None
        try:
            # numpy 2 keeps them in a context variable: a new context has the defaults.
            return dict(contextvars.Context().run(get))
        except Exception:
            return None


class NumpyErrors(_NumpyOptions):
    """numpy's floating-point error handling (``np.seterr(all='ignore')``)."""

    name = "numpy.seterr"
    getter = "geterr"
    setter = "seterr"

    def pristine(self) -> State | None:
        if sys.modules.get("numpy") is None:
            return None
        return {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}


class MatplotlibRc(Setting):
    """``matplotlib.rcParams``, but the backend and interactive mode (the inline
    backend turns it on at the first figure, and shows figures only with it on:
    neither is a setting a re-run should undo)."""

    name = "matplotlib"
    packages = frozenset({"matplotlib", "seaborn"})
    _SKIPPED = frozenset({"backend", "backend_fallback", "interactive"})

    def pristine(self) -> State | None:
        matplotlib = sys.modules.get("matplotlib")
        original = getattr(matplotlib, "rcParamsOrig", None)  # as the rc file set them
        if not isinstance(original, dict):
            return None
        state = dict(dict.items(original))
        for key in self._SKIPPED:
            state.pop(key, None)
        return state

    @staticmethod
    def _params() -> dict[str, object] | None:
        matplotlib = sys.modules.get("matplotlib")
        params = getattr(matplotlib, "rcParams", None)
        return params if isinstance(params, dict) else None

    def read(self) -> State | None:
        params = self._params()
        if params is None:
            return None
        # (The stored values, as validated: no deprecation warning, no re-validation.)
        state = dict(dict.items(params))
        for key in self._SKIPPED:
            state.pop(key, None)
        return state

    def write(self, changes: State, target: State) -> None:
        params = self._params()
        if params is None:
            return
        for key, value in changes.items():
            try:
                params[key] = value
            except Exception:
                pass


class InlineFigures(Setting):
    """The inline backend's figure formats and options (``%config InlineBackend...``)."""

    name = "inline"
    packages = frozenset({"matplotlib", "seaborn"})

    @staticmethod
    def _config() -> object | None:
        module = sys.modules.get("matplotlib_inline.config")
        backend = getattr(module, "InlineBackend", None)
        try:
            return backend.instance() if backend is not None and backend.initialized() else None
        except Exception:
            return None

    _KEYS = ("figure_format", "figure_formats", "print_figure_kwargs", "close_figures")

    @staticmethod
    def _configured() -> dict[str, object] | None:
        """What ``%config InlineBackend...`` set before the backend's first figure
        (the shell's configuration, which the backend reads when it starts)."""
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
        config = getattr(shell, "config", None)
        section = config.get("InlineBackend") if isinstance(config, dict) else None
        return section if isinstance(section, dict) else None

    def read(self) -> State | None:
        config = self._config()
        try:
            if config is None:
                # Not started yet: the defaults as the configuration changes them.
                state = self.pristine()
                configured = self._configured()
                if state is None or not configured:
                    return state
                state.update((k, v) for k, v in configured.items() if k in state)
                if configured.get("figure_format"):
                    state["figure_formats"] = {configured["figure_format"]}
            else:
                state = {k: getattr(config, k) for k in self._KEYS}
            # (``figure_format`` first: setting it sets ``figure_formats``, and a
            # ``%config`` giving it the value it holds would change nothing.)
            formats = state["figure_formats"]
            kwargs = state["print_figure_kwargs"]
            state["figure_formats"] = frozenset(formats) if isinstance(formats, (set, frozenset)) \
                else formats
            state["print_figure_kwargs"] = dict(kwargs) if isinstance(kwargs, dict) else kwargs
            return state
        except Exception:
            return None

    def pristine(self) -> State | None:
        module = sys.modules.get("matplotlib_inline.config")
        backend = getattr(module, "InlineBackend", None)
        if backend is None:
            if self._configured() is None:
                return None  # no %config yet, and the backend not loaded
            # matplotlib_inline's defaults (unchanged since IPython 1), without
            # importing it (it imports matplotlib).
            return {"figure_format": "", "figure_formats": frozenset({"png"}),
                    "print_figure_kwargs": {"bbox_inches": "tight"}, "close_figures": True}
        try:
            # The traits' defaults (``%config`` writes into the configuration too:
            # it cannot tell what the kernel started with).
            traits = backend.class_traits()
            return {"figure_format": traits["figure_format"].default(),
                    "figure_formats": frozenset(traits["figure_formats"].default()),
                    "print_figure_kwargs": dict(traits["print_figure_kwargs"].default()),
                    "close_figures": traits["close_figures"].default()}
        except Exception:
            return None

    def write(self, changes: State, target: State) -> None:
        config = self._config()
        if config is None:
            configured = self._configured()
            if configured is not None:
                for key, value in changes.items():
                    configured[key] = set(value) if isinstance(value, frozenset) else value
            return
        for key, value in changes.items():
            if isinstance(value, frozenset):
                value = set(value)
            elif isinstance(value, dict):
                value = dict(value)
            try:
                setattr(config, key, value)  # its observers set IPython's formatters
            except Exception:
                pass


class SeabornObjects(Setting):
    """The theme and display options of seaborn's objects interface
    (``so.Plot.config.theme.update(...)``, ``so.Plot.config.display[...]``)."""

    name = "seaborn.objects"
    packages = frozenset({"seaborn"})

    @staticmethod
    def _config() -> object | None:
        module = sys.modules.get("seaborn.objects")
        return getattr(getattr(module, "Plot", None), "config", None)

    def read(self) -> State | None:
        config = self._config()
        theme = getattr(config, "theme", None)
        display = getattr(config, "display", None)
        if not isinstance(theme, dict) or not isinstance(display, dict):
            return None
        state: State = {f"theme.{k}": v for k, v in dict.items(theme)}
        state.update((f"display.{k}", v) for k, v in display.items())
        return state

    def pristine(self) -> State | None:
        config = self._config()
        theme = getattr(config, "theme", None)
        if not isinstance(theme, dict):
            return None
        try:
            fresh = type(theme)()  # a new theme starts as seaborn's default
        except Exception:
            return None
        state: State = {f"theme.{k}": v for k, v in dict.items(fresh)}
        now = self.read() or {}
        state.update((k, v) for k, v in now.items() if k.startswith("display."))
        return state

    def write(self, changes: State, target: State) -> None:
        config = self._config()
        for key, value in changes.items():
            part, _, name = key.partition(".")
            holder = getattr(config, part, None)
            try:
                holder[name] = value  # type: ignore[index]
            except Exception:
                pass


class PandasDisplay(Setting):
    """pandas' ``display.*`` options (``pd.set_option``, ``pd.options.display...``)."""

    name = "pandas"
    gate = re.compile(r"option|eng_float_format")
    packages = frozenset({"pandas"})

    def __init__(self) -> None:
        self._keys: list[str] | None = None

    def _options(self) -> list[str]:
        if self._keys is None:
            pandas = sys.modules.get("pandas")
            keys: list[str] = []
            todo = [("display.", getattr(getattr(pandas, "options", None), "display", None))]
            with warnings.catch_warnings(record=True) as caught:
                while todo:
                    prefix, group = todo.pop()
                    for key in dir(group) if group is not None else ():
                        caught.clear()
                        value = getattr(group, key, None)
                        if type(value).__name__ == "DictWrapper":
                            todo.append((f"{prefix}{key}.", value))
                        elif not caught:  # a deprecated option warns each time it is read
                            keys.append(prefix + key)
            self._keys = keys
        return self._keys

    def read(self) -> State | None:
        pandas = sys.modules.get("pandas")
        get = getattr(pandas, "get_option", None)
        if get is None or not hasattr(pandas, "options"):
            return None  # not loaded, or loading
        try:
            return {key: get(key) for key in self._options()}
        except Exception:
            return None

    def pristine(self) -> State | None:
        pandas = sys.modules.get("pandas")
        now = self.read()
        if now is None:
            return None
        try:
            # Reset inside a context that puts every option back on leaving.
            with pandas.option_context(  # type: ignore[union-attr]
                    *itertools.chain.from_iterable(now.items())):
                pandas.reset_option("^display\\.")  # type: ignore[union-attr]
                return self.read()
        except Exception:
            return None

    def write(self, changes: State, target: State) -> None:
        pandas = sys.modules.get("pandas")
        for key, value in changes.items():
            try:
                pandas.set_option(key, value)  # type: ignore[union-attr]
            except Exception:
                pass


#: A pseudo-name for IPython's float precision: defined by the cells with a
#: ``%precision`` line or whose latest run changed it, read by the cells that
#: showed a float through the plain-text formatter (``1 / 3``, ``[x, y]``:
#: ``Runner.showed_float``); ``print`` does not use it.
PRECISION = "<precision>"


class Precision(Setting):
    """IPython's ``%precision`` (the plain-text formatter's float precision)."""

    name = "precision"
    packages = frozenset({PRECISION})
    sets = re.compile(r"^[ \t]*%precision\b", re.MULTILINE)

    @staticmethod
    def _formatter() -> object | None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
        display = getattr(shell, "display_formatter", None)
        formatters = getattr(display, "formatters", None)
        return formatters.get("text/plain") if isinstance(formatters, dict) else None

    def read(self) -> State | None:
        formatter = self._formatter()
        if formatter is None:
            return None
        return {"float_precision": getattr(formatter, "float_precision", None)}

    def write(self, changes: State, target: State) -> None:
        formatter = self._formatter()
        if formatter is not None and "float_precision" in changes:
            # (IPython sets numpy's print precision with it, when numpy is
            # loaded: numpy's options are :class:`NumpyPrinting`'s to set.)
            numpy = NumpyPrinting()
            options = numpy.read()
            try:
                formatter.float_precision = changes["float_precision"]  # type: ignore[attr-defined]
            except Exception:
                pass
            if options is not None:
                numpy.write(options, options)


#: This kernel's own package (see :class:`LocalModules`).
_OWN_PACKAGE = __name__.partition(".")[0]
#: A folder of installed packages, whichever environment it belongs to (a
#: ``.pth`` or ``PYTHONPATH`` may reach another one's).
_INSTALLED = re.compile(r"[\\/](?:site|dist)-packages[\\/]")
#: Globals of a module that are its code, not its state.
_CODE = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)


class LocalModules(Setting):
    """The globals of the notebook's own modules (a ``thinkplot.py`` beside it,
    imported by a cell): ``thinkplot.Config(loc='upper left')`` sets
    ``thinkplot.LOC`` through ``global LOC``, a setting of that module for the
    cells below.  A module is the notebook's own if a cell loaded it from a file
    outside the standard library, the installed packages and this kernel's own
    package (installed in place by ``pip install -e``, its modules loaded late
    must not be taken for the notebook's)."""

    name = "local modules"

    def __init__(self) -> None:
        #: Modules loaded before any cell ran, or from a library's folder.
        self._library: set[str] = set(sys.modules)
        self._local: dict[str, types.ModuleType] = {}
        self._count = len(sys.modules)
        roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
        roots |= {v for k, v in sysconfig.get_paths().items()
                  if k in ("stdlib", "platstdlib", "purelib", "platlib")}
        roots.add(os.path.dirname(os.path.abspath(__file__)))  # this package
        self._roots = tuple(os.path.join(os.path.realpath(r), "") for r in roots if r)

    def _modules(self) -> dict[str, types.ModuleType]:
        local = self._local
        if len(sys.modules) != self._count \
                or any(sys.modules.get(n) is not m for n, m in local.items()):
            # (A module loaded again, its file rewritten: ``Runner.fresh_imports``.)
            self._count = len(sys.modules)
            for name in [n for n, m in local.items() if sys.modules.get(n) is not m]:
                del local[name]
            for name, module in list(sys.modules.items()):
                if name in self._library or name in local:
                    continue
                path = getattr(module, "__file__", None)
                real = os.path.realpath(path) if isinstance(path, str) else ""
                if isinstance(module, types.ModuleType) and real.endswith(".py") \
                        and not name.startswith("__") \
                        and name.partition(".")[0] != _OWN_PACKAGE \
                        and not real.startswith(self._roots) \
                        and not _INSTALLED.search(real):
                    local[name] = module
                else:
                    self._library.add(name)
        return local

    @property
    def packages(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset(n.partition(".")[0] for n in self._modules())

    def holds(self, module: str) -> bool:
        """Whether ``module`` (a module's name) is one of the notebook's own."""
        return module in self._modules()

    def read(self) -> State | None:
        modules = self._modules()
        if not modules:
            return None
        # (Its data: modules, functions and classes it holds are left out.)
        return {f"{name}:{key}": value
                for name, module in modules.items()
                for key, value in list(vars(module).items())
                if not key.startswith("__") and not isinstance(value, _CODE)}

    def write(self, changes: State, target: State) -> None:
        for key, value in changes.items():
            name, _, attribute = key.partition(":")
            module = self._local.get(name)
            if module is not None:
                try:
                    setattr(module, attribute, value)
                except Exception:  # an odd module refusing it: left as it is
                    pass

    @staticmethod
    def changed(before: State, after: State) -> frozenset[str]:
        """The modules whose globals held before were rebound (not just loaded)."""
        return frozenset(key.partition(":")[0] for key, value in after.items()
                         if key in before and before[key] is not value)

    def touched(self, before: State, state: State) -> frozenset[str]:
        return frozenset(m.partition(".")[0] for m in self.changed(before, state))


class WarningFilters(Setting):
    """The ``warnings`` module's filters (``warnings.simplefilter('ignore')``,
    ``filterwarnings(...)``, ``resetwarnings()``): taken out of its cell, a
    filter is undone, as a run from the top would not set it."""

    name = "warnings"
    packages = frozenset({"warnings"})
    setters = re.compile(r"filterwarnings|simplefilter|resetwarnings|catch_warnings"
                         r"|\bfilters\s*(?:\[[^\]]*\]\s*=(?!=)|\.\w+\(|=(?!=))")

    def loaded(self, before: State, state: State, base: State) -> State | None:
        old, new, first = before.get("filters"), state.get("filters"), base.get("filters")
        if not (isinstance(old, tuple) and isinstance(new, tuple) and isinstance(first, tuple)):
            return None
        try:
            added = [f for f in new if f not in old]
            if not added or any(f not in new for f in old):
                return None  # (one went: not an import's)
            start = new.index(old[0]) if old else len(new)
            front = tuple(f for f in added if new.index(f) < start and f not in first)
            back = tuple(f for f in added if new.index(f) >= start and f not in first)
        except Exception:  # a filter that cannot be compared
            return None
        return {"filters": front + first + back}

    def read(self) -> State | None:
        return {"filters": tuple(warnings.filters)}

    def write(self, changes: State, target: State) -> None:
        filters = target.get("filters")
        if isinstance(filters, tuple):
            warnings.filters[:] = list(filters)  # type: ignore[index]
            mutated = getattr(warnings, "_filters_mutated", None)
            if mutated is not None:  # (the "once"/"default" records start again)
                mutated()


def default_settings() -> list[Setting]:
    # (``%precision`` before numpy's options: IPython sets numpy's precision with it.)
    return [WorkingDirectory(), Precision(), NumpyPrinting(), NumpyErrors(), MatplotlibRc(),
            InlineFigures(), SeabornObjects(), PandasDisplay(), LocalModules(), WarningFilters()]


#: A pseudo-name for how figures are drawn: defined by the cells changing
#: matplotlib's or seaborn's settings (:attr:`Settings.figure_setters`), read
#: by the cells that drew a figure naming no plotting module (``pmf.plot()``).
FIGURES = "<figures>"
_PLOTTING = frozenset({"matplotlib", "seaborn"})

_INLINE = "matplotlib_inline.backend_inline"


def _open_figures() -> frozenset[int]:
    """The open matplotlib figures (their managers' ids)."""
    helpers = sys.modules.get("matplotlib._pylab_helpers")
    try:
        return frozenset(id(m) for m in helpers.Gcf.get_all_fig_managers())  # type: ignore[union-attr]
    except Exception:
        return frozenset()


def _interactive() -> bool | None:
    """``rcParams['interactive']`` (None: matplotlib not loaded)."""
    params = getattr(sys.modules.get("matplotlib"), "rcParams", None)
    return bool(dict.get(params, "interactive", False)) if isinstance(params, dict) else None


_MATPLOTLIB_MAGIC = re.compile(r"^\s*%(matplotlib|pylab)\b", re.MULTILINE)

#: Code that may set a setting itself (see :meth:`Settings._load_time`).
_SETTERS = re.compile(
    r"rcParams|\brc\(|\.use\(|\bset_\w*\(|\.set\(|%precision|%cd\b|chdir|%config|%matplotlib"
    r"|rcdefaults|option|\bseterr\b|\bglobal\b")


class Settings:
    """Per cell, the settings its latest run changed; before a run, the settings
    the cells above leave (see the module's docstring)."""

    def __init__(self, graph: DependencyGraph,
                 settings: Callable[[], list[Setting]] = default_settings) -> None:
        self.graph = graph
        self.settings = {s.name: s for s in settings()}
        #: Per setting, the state before any cell changed it.
        self.base: dict[str, State] = {}
        #: Per cell, per setting: what its latest run changed.
        self.changes: dict[CellId, dict[str, State]] = {}
        #: Per setting, the state in force as far as the kernel knows (one
        #: object for as long as it stays the same).
        self.current: dict[str, State] = {}
        #: Per cell, the states its latest run left.
        self.left: dict[CellId, dict[str, State]] = {}
        self._targets: dict[tuple[str, tuple[CellId, ...]], State] = {}
        #: Per cell, the top-level packages whose settings its latest run changed
        #: (not by loading them), and the notebook's own modules whose globals
        #: it rebound (see :class:`LocalModules`).
        self.module_changes: dict[CellId, frozenset[str]] = {}
        #: Per cell whose latest run that loaded modules changed settings and
        #: names no setter: the top-level modules it loaded, and those changes
        #: (see :meth:`_load_time`).
        self.loads: dict[CellId, tuple[frozenset[str], dict[str, State]]] = {}
        #: Cells whose latest run changed how figures are drawn (matplotlib's or
        #: seaborn's settings, the inline backend's formats), seen or not, loading
        #: the library or not: definers of :data:`FIGURES`.
        self.figure_setters: set[CellId] = set()
        #: Cells whose latest run started the inline backend or would have, top
        #: to bottom: drew a figure, ran ``%matplotlib`` or turned ``interactive``
        #: on (see :meth:`_inline_started`).
        self.inline_starts: set[CellId] = set()
        self._interactive: bool | None = None
        self._figures: frozenset[int] = frozenset()
        self._count = len(sys.modules)

    def own_module(self, module: str) -> bool:
        """Whether ``module`` is one of the notebook's own (see :class:`LocalModules`)."""
        local = self.settings.get(LocalModules.name)
        return isinstance(local, LocalModules) and local.holds(module)

    @property
    def packages(self) -> frozenset[str]:
        """The top-level packages whose modules hold these settings."""
        return frozenset(p for s in self.settings.values() for p in s.packages)

    def before(self, cell: CellId, place: bool) -> None:
        """``cell`` is about to run; with ``place``, at its position: the settings
        become what the cells above it leave."""
        self._count = len(sys.modules)
        self.inline_starts.discard(cell)
        for name, setting in self.settings.items():
            if name not in self.current:
                state = setting.read()  # loaded since: as no cell changed it
                if state is not None:
                    self.base.setdefault(name, state)
                    self.current[name] = state
        if place and cell in self.graph:
            self._apply(self.graph.position(cell))
            self._show_figures(cell, below=False)
        self._interactive = _interactive()
        self._figures = _open_figures()

    def after(self, cell: CellId | None, code: str, reach: str | None = None) -> frozenset[str]:
        """``cell`` ran ``code`` (None: no cell of the graph): note what it changed.
        ``reach``: its code and that of the functions it calls (for gated settings).
        Returns the packages whose settings it left otherwise than its last run."""
        changed: dict[str, State] = {}
        touched: set[str] = set()
        figures = False
        reach = code if reach is None else reach
        if cell is not None and cell in self.graph:
            self._inline_started(cell, code)
        for name, setting in self.settings.items():
            if setting.gate is not None and setting.gate.search(reach) is None:
                continue  # taken as unchanged
            before = self.current.get(name)
            state = setting.read()
            if state is None:
                continue
            loaded = before is None
            if before is None:
                # The cell loaded the library: what it set is what differs from
                # the library's defaults.
                before = self.base.setdefault(name, setting.pristine() or state)
            made = _changes(before, state)
            if made and not loaded and len(sys.modules) > self._count \
                    and setting.setters is not None \
                    and setting.setters.search(reach) is None and name in self.base:
                base = setting.loaded(before, state, self.base[name])
                if base is not None:
                    # A module the cell loaded changed them: as if before every
                    # cell, and in what the cells setting them left.
                    self.base[name] = base
                    for made_by in self.changes.values():
                        theirs = made_by.get(name)
                        if theirs is None:
                            continue
                        mended = setting.loaded(before, state, theirs)
                        if mended is not None:
                            made_by[name] = {**theirs, **mended}
                    self.current[name] = state
                    self._targets.clear()
                    continue
            if made:
                figures = figures or bool(setting.packages & _PLOTTING)
                self.current[name] = state
                if not loaded:
                    touched |= setting.touched(before, state)
            else:
                self.current[name] = before  # the same: the same object
            if setting.sets is not None and setting.sets.search(code) is not None:
                made = dict(state)
            if made:
                changed[name] = made
        if cell is not None and cell in self.graph:
            changed = self._load_time(cell, code, changed)
            if figures:
                self.figure_setters.add(cell)
            else:
                self.figure_setters.discard(cell)
        if cell is None:
            # Run outside the graph (an input without a cell id that links
            # nothing: ``%cd sub``, ``%precision 2`` from nbclient or a console):
            # nothing re-runs it, so what it set holds for every cell, as if set
            # before them all; it is never undone.
            for name, made in changed.items():
                base = self.base.get(name)
                if base is not None:
                    self.base[name] = {**base, **made}
            if changed:
                self._targets.clear()
            return frozenset()
        if touched:
            self.module_changes[cell] = frozenset(touched)
        else:
            self.module_changes.pop(cell, None)
        kept = self.changes.pop(cell, None)
        if changed and cell in self.graph:
            self.changes[cell] = changed
        if kept is not None or changed:
            try:
                same = kept == changed
            except Exception:
                same = False
            if not same:
                self._targets.clear()
        left = dict(self.current)
        last = self.left.get(cell)
        self.left[cell] = left
        if last is None:
            return frozenset()
        packages: set[str] = set()
        for name, state in left.items():
            other = last.get(name)
            if other is not None and other is not state and _changes(other, state):
                packages |= self.settings[name].packages
        return frozenset(packages)

    def drew(self, cell: CellId) -> None:
        """``cell``, running, has figures open with the inline backend: if one
        is new (not one left open by a cell before), it drew it."""
        if _open_figures() - self._figures:
            self.inline_starts.add(cell)

    def _inline_started(self, cell: CellId, code: str) -> None:
        """``cell`` ran: note whether it started the inline backend (turned
        ``interactive`` on, or ran ``%matplotlib``), and see
        that it leaves figures shown if it ran above the start (see
        :meth:`_show_figures`)."""
        if (self._interactive is False and _interactive()) or _MATPLOTLIB_MAGIC.search(code):
            self.inline_starts.add(cell)
        self._show_figures(cell, below=True)

    def _show_figures(self, cell: CellId, below: bool) -> None:
        """The inline backend turns ``rcParams['interactive']`` on when it starts
        (at the notebook's first figure, or ``%matplotlib``) and shows figures
        only with it on.  A cell above where it starts that turns it off
        (``plt.rcParams.update(plt.rcParamsDefault)``, seaborn's ``reset_orig()``)
        runs, top to bottom, before the start, which turns it on again: the
        figures are shown.  A cell re-run after the start, above it or the
        start itself (``below``: only above it), gets it on, as the start
        would, not off as a reset below it left it.  (Below the start, a reset
        turns it off, as in stock: the figures below are not shown.)"""
        matplotlib = sys.modules.get("matplotlib")
        params = getattr(matplotlib, "rcParams", None)
        if not isinstance(params, dict) or _INLINE not in sys.modules \
                or "inline" not in str(dict.get(params, "backend", "")) \
                or dict.get(params, "interactive", True):
            return
        at = self.graph.position(cell)
        if any(c in self.graph and (self.graph.position(c) <= at if below
                                    else self.graph.position(c) < at)
               for c in self.inline_starts):
            return
        try:
            matplotlib.interactive(True)  # type: ignore[union-attr]
        except Exception:
            pass

    def _load_time(self, cell: CellId, code: str, changed: dict[str, State],
                   ) -> dict[str, State]:
        """What ``cell`` changed, with what loading a module did in an earlier
        run of it.  A module sets things once, when loaded (``import style``
        of a module beside the notebook setting ``rcParams``, ``from preamble
        import *``): run again, the cell imports it from the cache and sets
        nothing, yet top to bottom its run does set them.  So a run that
        loaded the notebook's own modules (:class:`LocalModules`) and changed
        settings, naming no setter itself (see :data:`_SETTERS`: then the
        change may be the code's own), keeps those changes for its later runs
        that load nothing, as long as its code still names one of them."""
        count = self._count
        if len(sys.modules) > count:
            local = self.settings.get(LocalModules.name)
            loaded = frozenset(n.partition(".")[0]
                               for n in itertools.islice(sys.modules, count, None)
                               ) & (local.packages if isinstance(local, LocalModules)
                                    else frozenset())
            if loaded and changed and _SETTERS.search(code) is None:
                self.loads[cell] = (loaded, {n: dict(v) for n, v in changed.items()})
            else:
                self.loads.pop(cell, None)
            return changed
        load = self.loads.get(cell)
        if load is None:
            return changed
        modules, made = load
        if not any(re.search(rf"\b{re.escape(m)}\b", code) for m in modules):
            return changed  # (kept: edited back to import it, it sets them again)
        merged = dict(changed)
        for name, values in made.items():
            merged[name] = {**values, **changed.get(name, {})}
        return merged

    def forget(self, cell: CellId) -> None:
        self.loads.pop(cell, None)
        self.figure_setters.discard(cell)
        self.left.pop(cell, None)
        self.module_changes.pop(cell, None)
        if self.changes.pop(cell, None) is not None:
            self._targets.clear()

    def finalize(self) -> None:
        """The settings as all the cells leave them, in notebook order."""
        self._apply(None)

    def _apply(self, position: int | None) -> None:
        graph = self.graph
        changers = sorted(
            (graph.position(c), c) for c in self.changes
            if c in graph and (position is None or graph.position(c) < position))
        for name, setting in self.settings.items():
            base = self.base.get(name)
            current = self.current.get(name)
            if base is None or current is None:
                continue
            cells = tuple(c for _p, c in changers if name in self.changes[c])
            key = (name, cells)
            target = self._targets.get(key)
            if target is None:
                target = dict(base) if cells else base
                for c in cells:
                    target.update(self.changes[c][name])
                self._targets[key] = target
            if target is current:
                continue
            different = _changes(current, target)
            if different:
                setting.write(different, target)
            self.current[name] = target

"""``%%sql`` and ``%sql_connect``: SQL cells inside the reactive kernel.

The SQL machinery (sqlglot, the engines) is imported when a SQL cell first
runs, not when the kernel starts: most notebooks never use it.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from traitlets import CaselessStrEnum, Integer, Unicode

from .formats import FORMATS

if TYPE_CHECKING:
    from .display import SqlResultView
    from .engines import Engine

EMBEDDED = "duckdb"


def _engine_for_url(name: str, url: str) -> Engine:
    from .engines import DuckDBEngine, SQLAlchemyEngine

    if url.startswith("duckdb://"):
        path = url[len("duckdb://"):].lstrip("/") or ":memory:"
        if url.startswith("duckdb:////"):
            path = "/" + path
        return DuckDBEngine(name, path)
    return SQLAlchemyEngine(name, url)


@magics_class
class SqlMagics(Magics):
    """SQL cells: ``%%sql [OUTPUT_NAME] [--engine NAME]``.

    Owns the database engines of this kernel: the embedded DuckDB (always
    named ``duckdb``) and those added with ``%sql_connect``.
    """

    duckdb_path = Unicode(
        ":memory:", help="File of the embedded DuckDB (':memory:' keeps it in memory)."
    ).tag(config=True)
    default_url = Unicode(
        "",
        help="SQLAlchemy URL (or duckdb:///file.db) that SQL cells without --engine use; "
        "empty means the embedded DuckDB.",
    ).tag(config=True)
    dataframe = CaselessStrEnum(
        list(FORMATS), default_value="pandas", help="Type of OUTPUT_NAME: pandas, polars or arrow."
    ).tag(config=True)
    display_rows = Integer(50, help="Rows shown in a SQL cell's table.").tag(config=True)

    def __init__(self, shell: Any, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.engines: dict[str, Engine] = {}
        self.current: str | None = None
        #: Set by the kernel: whether a table (``sql:<key>``) that a cell run
        #: here made would not exist for the running cell run from the top (the
        #: flag: the running cell creates it; see ``Runner.table_left_over``).
        self.table_left_over: Callable[[str, bool], bool] | None = None

    def engine(self, name: str | None = None) -> Engine:
        if name is None:
            name = self.current or ("default" if self.default_url else EMBEDDED)
        engine = self.engines.get(name)
        if engine is not None:
            return engine
        if name == EMBEDDED:
            from .engines import DuckDBEngine

            engine = DuckDBEngine(EMBEDDED, self.duckdb_path)
        elif name == "default" and self.default_url:
            engine = _engine_for_url("default", self.default_url)
        else:
            known = ", ".join(sorted({EMBEDDED, *self.engines})) or EMBEDDED
            raise UsageError(f"No SQL engine named {name!r}; known: {known}. "
                             "Add one with %sql_connect URL --name NAME.")
        self.engines[name] = engine
        return engine

    @cell_magic
    def sql(self, line: str, cell: str) -> SqlResultView | None:
        """Run SQL; ``{name}`` placeholders are bound as parameters."""
        from .cells import SqlCellError, parse_cell
        from .display import SqlResultView

        try:
            spec = parse_cell(line, cell)
        except SqlCellError as err:
            raise UsageError(str(err)) from None
        if not spec.statements:
            return None
        engine = self.engine(spec.engine)
        self._forget_left_over_tables(engine, spec.body)
        result = engine.run(spec, self.shell.user_ns, self.dataframe)
        if spec.output:
            self.shell.user_ns[spec.output] = result.frame
        return SqlResultView(result, self.display_rows)

    def _forget_left_over_tables(self, engine: Engine, body: str) -> None:
        """Run from the top, a cell creating a table that no cell above it
        defines would not find it, nor would a cell reading a table that no cell
        defines any more: on the in-memory DuckDB (which only SQL cells reach),
        the version a cell left when it ran (this one's last run, one below it,
        a deleted one) goes first, as re-running ``t = ...`` rebinds ``t`` and
        deleting its cell deletes ``t``.  Never on other databases: their tables
        may hold data no cell made."""
        from .cells import TABLE_PREFIX, tables_of
        from .engines import DuckDBEngine

        left_over = self.table_left_over
        if left_over is None or not isinstance(engine, DuckDBEngine) \
                or engine.path != ":memory:":
            return
        try:
            use = tables_of(body)
        except Exception:
            return  # the database reports what does not parse
        for key in sorted(use.creates | use.reads | use.changes | use.drops):
            if left_over(TABLE_PREFIX + key, key in use.creates):
                engine.drop(key)

    @line_magic
    def sql_connect(self, line: str) -> None:
        """%sql_connect URL [--name NAME] [--no-default] | --use NAME | --close NAME

        Without arguments, lists the engines (* marks the one cells use).
        """
        parser = argparse.ArgumentParser(prog="%sql_connect", add_help=False)
        parser.add_argument("url", nargs="?")
        parser.add_argument("--name")
        parser.add_argument("--no-default", action="store_true")
        parser.add_argument("--use")
        parser.add_argument("--close")
        try:
            args = parser.parse_args(shlex.split(line))
        except SystemExit:
            raise UsageError(self.sql_connect.__doc__ or "") from None
        if args.use:
            self.engine(args.use)
            self.current = args.use
        elif args.close:
            engine = self.engines.pop(args.close, None)
            if engine is None:
                raise UsageError(f"No SQL engine named {args.close!r}")
            engine.close()
            if self.current == args.close:
                self.current = None
        elif args.url:
            self._connect(args.url, args.name, not args.no_default)
        self._list()

    def _connect(self, url: str, name: str | None, make_default: bool) -> None:
        if name is None:
            scheme = url.split(":", 1)[0]
            name = scheme.split("+", 1)[0] or "db"
        try:
            engine = _engine_for_url(name, url)
            from .engines import SQLAlchemyEngine

            if isinstance(engine, SQLAlchemyEngine):
                with engine.engine.connect():
                    pass
        except Exception as err:
            message = f"{type(err).__name__}: {err}"
            password = _password_of(url)
            if password:
                message = message.replace(password, "***")
            raise UsageError(f"Cannot connect engine {name!r}: {message}") from None
        old = self.engines.pop(name, None)
        if old is not None:
            old.close()
        self.engines[name] = engine
        if make_default:
            self.current = name

    def _list(self) -> None:
        current = self.current or ("default" if self.default_url else EMBEDDED)
        names = sorted({EMBEDDED, *self.engines})
        for name in names:
            engine = self.engines.get(name)
            description = engine.description if engine else f"DuckDB ({self.duckdb_path})"
            print(f"{'*' if name == current else ' '} {name}: {description}")


def _password_of(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password or ""
    except Exception:
        return ""

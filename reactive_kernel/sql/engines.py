"""Database engines for SQL cells: embedded DuckDB and any SQLAlchemy URL.

An engine runs the statements of one cell, binding every ``{placeholder}`` as
a query parameter (never spliced into the text), and returns the last result
that has rows.  Queries run on a worker thread so the kernel's main thread can
turn Ctrl-C into a real cancellation (``duckdb.interrupt()``, the driver's
``cancel()``).  Errors carry the database's message and where in the cell it
points; passwords never appear in messages.
"""

from __future__ import annotations

import concurrent.futures
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .cells import SqlCell, Statement, tables_of


class SqlExecutionError(Exception):
    """A database error, located in the cell; shown without a Python traceback."""

    def __init__(self, message: str, line: int | None = None, source: str = "") -> None:
        self.line = line
        self.source = source
        where = f" (cell line {line})" if line is not None else ""
        super().__init__(f"{message}{where}")

    def _render_traceback_(self) -> list[str]:
        lines = [f"\x1b[0;31mSqlExecutionError\x1b[0m: {self}"]
        if self.source:
            lines.append("")
            lines.append(self.source)
        return lines


@dataclass
class QueryResult:
    """What a cell produced: a frame (if a statement returned rows) and a summary."""

    frame: Any = None
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    engine: str = ""


def is_dataframe(value: Any) -> bool:
    """pandas / polars DataFrames and pyarrow Tables can be queried as tables."""
    module = str(getattr(type(value), "__module__", None) or "").split(".")[0]
    name = type(value).__name__
    return (module == "pandas" and name == "DataFrame") or (
        module == "polars" and name in ("DataFrame", "LazyFrame")
    ) or (module == "pyarrow" and name in ("Table", "RecordBatch", "RecordBatchReader"))


def _cell_line(cell: SqlCell, statement: Statement, line_in_statement: int) -> int:
    """1-based line in the whole cell (the %%sql header is line 1)."""
    return cell.body[: statement.offset].count("\n") + line_in_statement + 1


_LINE = re.compile(r"LINE (\d+):")


class Engine:
    """Runs SQL cells on one database; subclasses bind to a driver."""

    name: str
    description: str
    supports_frames = False

    def __init__(self, name: str) -> None:
        self.name = name
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"sql-{name}")
        self._lock = threading.Lock()
        self._running: concurrent.futures.Future[QueryResult] | None = None

    # -- running --------------------------------------------------------------

    def run(self, cell: SqlCell, namespace: Mapping[str, Any], fmt: str) -> QueryResult:
        """Run a cell; Ctrl-C in the calling thread cancels the query."""
        self._settle()
        try:
            future = self._running = self._pool.submit(self._run_cell, cell, namespace, fmt)
            while True:
                try:
                    return future.result(timeout=0.25)
                except concurrent.futures.TimeoutError:
                    continue
        except KeyboardInterrupt:
            self._settle()
            raise

    def _settle(self) -> None:
        """Cancel and wait for a query an interrupt left running, if any.

        The interrupt can land anywhere in :meth:`run`, even between the
        submission and the wait, or before the driver sent the query; the
        next query must not find the connection still busy."""
        running = self._running
        deadline = time.monotonic() + 30
        while running is not None and not running.done() and time.monotonic() < deadline:
            # A cancel that reaches the driver before the query does is lost:
            # repeat it until the query is over.
            try:
                self.interrupt()
                running.result(timeout=0.2)
            except (concurrent.futures.TimeoutError, KeyboardInterrupt):
                # (A second Ctrl-C while it winds down: keep cancelling, or the
                # next query would find the connection busy.)
                continue
            except Exception:  # the cancelled query's own error: expected
                pass

    def _run_cell(self, cell: SqlCell, namespace: Mapping[str, Any], fmt: str) -> QueryResult:
        started = time.perf_counter()
        result = QueryResult(engine=self.name)
        self.prepare(cell, namespace)
        for statement in cell.statements:
            values = {p.name: namespace[p.name] for p in statement.placeholders
                      if p.name in namespace}
            missing = [p.name for p in statement.placeholders if p.name not in namespace]
            if missing:
                raise SqlExecutionError(
                    f"NameError: placeholder {{{missing[0]}}} is not defined",
                    _cell_line(cell, statement, 1), statement.text)
            try:
                self.execute(statement, values, fmt, result)
            except SqlExecutionError:
                raise
            except Exception as err:
                raise self.located(err, cell, statement) from None
        result.elapsed = time.perf_counter() - started
        return result

    def located(self, err: Exception, cell: SqlCell, statement: Statement) -> SqlExecutionError:
        message = self.clean(f"{type(err).__name__}: {err}")
        first = message.split("\n\nLINE", 1)[0].split("\nLINE", 1)[0].strip()
        match = _LINE.search(message)
        line = _cell_line(cell, statement, int(match.group(1)) if match else 1)
        context = message[match.start():] if match else ""
        context = _LINE.sub(f"LINE {line}:", context, count=1)
        return SqlExecutionError(first, line, context.rstrip())

    def clean(self, message: str) -> str:
        """Remove secrets from a message."""
        return message

    # -- driver hooks ---------------------------------------------------------

    def prepare(self, cell: SqlCell, namespace: Mapping[str, Any]) -> None:
        """Before the statements run (e.g. make DataFrames queryable)."""

    def execute(
        self, statement: Statement, values: dict[str, Any], fmt: str, result: QueryResult
    ) -> None:
        raise NotImplementedError

    def interrupt(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def _convert(frame: Any, fmt: str) -> Any:
    """pandas -> the configured format."""
    if fmt == "pandas":
        return frame
    if fmt == "polars":
        import polars

        return polars.from_pandas(frame)
    import pyarrow

    return pyarrow.Table.from_pandas(frame, preserve_index=False)


class DuckDBEngine(Engine):
    """Embedded, in-process DuckDB owned by the kernel."""

    supports_frames = True

    def __init__(self, name: str = "duckdb", path: str = ":memory:") -> None:
        super().__init__(name)
        import duckdb

        self.duckdb = duckdb
        self.path = path
        self.connection = duckdb.connect(path)
        self.description = f"DuckDB {duckdb.__version__} ({path})"
        # DataFrames registered under their variable names (kept referenced so
        # views over them keep working; replaced when the variable changes).
        self._registered: dict[str, Any] = {}

    def prepare(self, cell: SqlCell, namespace: Mapping[str, Any]) -> None:
        """Python DataFrames named in FROM/JOIN become queryable by that name
        (zero-copy scans; a real table of the same name wins)."""
        try:
            names = tables_of(cell.body).python_names
        except Exception:
            return
        for name in names & self._registered.keys():
            if not is_dataframe(namespace.get(name)):
                # The variable is gone (its cell deleted, ``del df``) or holds
                # something else now: its old frame is not queryable any more.
                self.connection.unregister(name)
                del self._registered[name]
        # Registered again even when the variable holds the same frame: a frame
        # changed in place since (``df['x'] = df['x'] + 1`` gives it a new column
        # array) would otherwise be scanned as it was when first registered.
        wanted = {
            name: value for name in names
            if is_dataframe(value := namespace.get(name))
        }
        if not wanted:
            return
        existing = {
            row[0]
            for row in self.connection.execute(
                "SELECT table_name FROM duckdb_tables() "
                "UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        } - set(self._registered)
        for name, value in wanted.items():
            if name not in existing:
                self.connection.register(name, value)
                self._registered[name] = value

    def execute(
        self, statement: Statement, values: dict[str, Any], fmt: str, result: QueryResult
    ) -> None:
        sql, params, frames = self._bind(statement, values)
        for alias, frame in frames.items():
            self.connection.register(alias, frame)
        try:
            kind = self.connection.extract_statements(sql)[0].type
            if kind == self.duckdb.StatementType.SELECT:
                # A relation fetches straight into the wanted format (no copy
                # through a DB-API cursor); it runs once, on the fetch.
                relation = self.connection.sql(sql, params=params or None)
                if fmt == "polars":
                    frame = relation.pl()
                elif fmt == "arrow":
                    frame = relation.to_arrow_table()
                else:
                    frame = relation.df()
                result.frame = frame
                result.rows = frame.num_rows if fmt == "arrow" else len(frame)
                result.columns = list(relation.columns)
                return
            cursor = self.connection.execute(sql, params)
            description = cursor.description
            verb = str(kind).split(".")[-1].replace("_", " ")
            if description is not None and [d[0] for d in description] != ["Count"]:
                # Rows from a non-SELECT statement (PRAGMA, SHOW, EXPLAIN, ...).
                frame = cursor.df()
                result.frame = _convert(frame, fmt)
                result.rows = len(frame)
                result.columns = [d[0] for d in description]
                return
            count = cursor.fetchone() if description is not None else None
            if count is not None and verb in ("INSERT", "UPDATE", "DELETE"):
                result.messages.append(f"{verb}: {count[0]} rows")
            else:
                result.messages.append(f"{verb}: done")
        finally:
            for alias in frames:
                self.connection.unregister(alias)

    @staticmethod
    def _bind(
        statement: Statement, values: dict[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """Placeholders -> ``$name`` parameters, or registered views for frames."""
        parts: list[str] = []
        params: dict[str, Any] = {}
        frames: dict[str, Any] = {}
        last = 0
        for holder in statement.placeholders:
            parts.append(statement.text[last:holder.start])
            value = values[holder.name]
            if is_dataframe(value):
                alias = f"__rk_frame_{holder.name}"
                frames[alias] = value
                parts.append(alias)
            else:
                key = f"rk_{holder.name}"
                params[key] = value
                parts.append(f"${key}")
            last = holder.end
        parts.append(statement.text[last:])
        return "".join(parts), params, frames

    def drop(self, key: str) -> None:
        """Drop the table, view, sequence, macro or index ``key`` (a table key:
        ``schema.name``) if it exists; a failure is left for the statement that
        creates it to report."""
        name = ".".join('"' + part.replace('"', '""') + '"' for part in key.split("."))
        for kind in ("TABLE", "VIEW", "INDEX", "SEQUENCE", "MACRO", "MACRO TABLE"):
            # (Each kind: ``IF EXISTS`` of one kind says nothing of the others.)
            try:
                self.connection.execute(f"DROP {kind} IF EXISTS {name}")
            except self.duckdb.Error:
                continue  # another kind of object of that name, or something depends on it

    def interrupt(self) -> None:
        self.connection.interrupt()

    def close(self) -> None:
        super().close()
        self.connection.close()


class SQLAlchemyEngine(Engine):
    """Any database SQLAlchemy has a dialect for (PostgreSQL, SQLite, Trino, ...)."""

    def __init__(self, name: str, url: str, **options: Any) -> None:
        super().__init__(name)
        import sqlalchemy
        from sqlalchemy.engine import make_url

        self.sqlalchemy = sqlalchemy
        parsed = make_url(url)
        parsed = _with_available_driver(parsed)
        self._secret = parsed.password or ""
        self.engine = sqlalchemy.create_engine(parsed, **options)
        self.description = parsed.render_as_string(hide_password=True)
        self._active: Any = None

    def clean(self, message: str) -> str:
        if self._secret:
            message = message.replace(str(self._secret), "***")
        return message

    def _run_cell(self, cell: SqlCell, namespace: Mapping[str, Any], fmt: str) -> QueryResult:
        with self.engine.connect() as connection:
            self._active = connection
            try:
                result = super()._run_cell(cell, namespace, fmt)
                connection.commit()
                return result
            finally:
                self._active = None

    def execute(
        self, statement: Statement, values: dict[str, Any], fmt: str, result: QueryResult
    ) -> None:
        import pandas

        parts: list[str] = []
        params: dict[str, Any] = {}
        last = 0
        for holder in statement.placeholders:
            # Escape literal colons so only our placeholders bind.
            parts.append(statement.text[last:holder.start].replace(":", "\\:"))
            value = values[holder.name]
            if is_dataframe(value):
                raise SqlExecutionError(
                    f"{{{holder.name}}} is a DataFrame: only the embedded DuckDB engine "
                    "can query DataFrames")
            key = f"rk_{holder.name}"
            params[key] = value
            parts.append(f":{key}")
            last = holder.end
        parts.append(statement.text[last:].replace(":", "\\:"))
        outcome = self._active.execute(self.sqlalchemy.text("".join(parts)), params)
        if outcome.returns_rows:
            columns = list(outcome.keys())
            frame = pandas.DataFrame.from_records(outcome.fetchall(), columns=columns)
            result.frame = _convert(frame, fmt)
            result.rows = len(frame)
            result.columns = columns
        else:
            verb = statement.text.split(None, 1)[0].upper() if statement.text else "STATEMENT"
            count = outcome.rowcount
            result.messages.append(
                f"{verb}: {count} rows" if count is not None and count >= 0 else f"{verb}: done")

    def interrupt(self) -> None:
        active = self._active
        if active is None:
            return
        driver = getattr(active.connection, "driver_connection", None)
        cancel: Callable[[], Any] | None = getattr(driver, "cancel", None)
        if cancel is not None:
            cancel()

    def close(self) -> None:
        super().close()
        self.engine.dispose()


def _with_available_driver(url: Any) -> Any:
    """``postgresql://`` means psycopg2 to SQLAlchemy; use psycopg 3 if that is
    what is installed."""
    if url.drivername == "postgresql":
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            try:
                import psycopg  # noqa: F401
            except ImportError:
                return url
            return url.set(drivername="postgresql+psycopg")
    return url

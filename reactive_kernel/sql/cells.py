"""Pure parsing of SQL cells: header, placeholders, statements, tables.

Nothing here talks to a database.  :func:`analyse_sql` gives the graph what a
SQL cell defines and reads:

- defines its OUTPUT_NAME and ``sql:<table>`` for every table or view it
  creates (``CREATE [OR REPLACE] TABLE|VIEW``), changes (``INSERT``,
  ``UPDATE``, ``DELETE``, ``MERGE``, ``ALTER``, ``TRUNCATE``, ``COPY ... FROM``)
  or drops; a change or a drop of a table it did not create is a read too, like
  ``df["b"] = ...`` in Python (a change in place);
- reads every ``{placeholder}``, and for every table it reads both the Python
  name (a DataFrame queried by its variable name) and ``sql:<table>``.

Table keys are normalised like SQL does: unquoted identifiers are
case-insensitive (lower-cased), quoted ones keep their case; a schema-qualified
name keeps its schema (``sql:sales.orders``).  Tables are extracted with
sqlglot's parser, never with regular expressions.
"""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass, field

import sqlglot
from sqlglot import Tokenizer, TokenType, exp
from sqlglot.errors import SqlglotError

from ..analysis import MagicNames

TABLE_PREFIX = "sql:"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLACEHOLDER_IDENT = "__rk_placeholder_"


class SqlCellError(ValueError):
    """The ``%%sql`` header line is malformed."""


@dataclass(frozen=True)
class Placeholder:
    name: str
    start: int  # offset in the statement text
    end: int


@dataclass(frozen=True)
class Statement:
    """One statement of a cell, as the user wrote it."""

    text: str
    offset: int  # offset of ``text`` in the cell body
    placeholders: tuple[Placeholder, ...] = ()


@dataclass(frozen=True)
class SqlCell:
    output: str | None
    engine: str | None
    body: str
    statements: tuple[Statement, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TableUse:
    """Tables a SQL cell creates, reads and drops (keys without prefix)."""

    creates: frozenset[str] = frozenset()
    reads: frozenset[str] = frozenset()
    drops: frozenset[str] = frozenset()
    #: Tables whose rows or columns it changes (``INSERT INTO t``...).
    changes: frozenset[str] = frozenset()
    #: Those of ``drops`` dropped ``IF EXISTS`` only: no table is needed.
    drops_if_exists: frozenset[str] = frozenset()
    #: Unquoted, unqualified table names as written: candidates for Python
    #: DataFrames queried by variable name.
    python_names: frozenset[str] = frozenset()
    #: Those of ``creates`` made by a ``CREATE`` without ``OR REPLACE`` (and not
    #: made or dropped by a statement above it in the cell): whether one exists
    #: already decides what it does (``already exists``; ``IF NOT EXISTS`` does
    #: nothing).
    creates_new: frozenset[str] = frozenset()


def parse_header(line: str) -> tuple[str | None, str | None]:
    """``[OUTPUT_NAME] [--engine NAME]`` -> (output, engine)."""
    try:
        words = shlex.split(line)
    except ValueError as err:
        raise SqlCellError(f"Cannot read the %%sql line {line!r}: {err}") from None
    output: str | None = None
    engine: str | None = None
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("--engine", "-e"):
            if i + 1 >= len(words):
                raise SqlCellError("--engine needs a name, e.g. %%sql result --engine pg")
            engine = words[i + 1]
            i += 2
            continue
        if word.startswith("--engine="):
            engine = word.split("=", 1)[1]
        elif word.startswith("-"):
            raise SqlCellError(
                f"Unknown %%sql option {word!r}; usage: %%sql [OUTPUT] [--engine NAME]")
        elif output is None:
            if not word.isidentifier():
                raise SqlCellError(f"{word!r} is not a valid Python name for the result")
            output = word
        else:
            raise SqlCellError(f"Unexpected {word!r}; usage: %%sql [OUTPUT] [--engine NAME]")
        i += 1
    return output, engine


def split_statements(body: str) -> tuple[Statement, ...]:
    """Split on top-level semicolons (quotes and comments respected)."""
    # Same-length stand-ins keep token offsets equal to offsets in ``body``.
    outside = _outside_literals(body)
    protected = _PLACEHOLDER.sub(
        lambda m: "_" + m.group(1) + "_" if outside[m.start()] else m.group(0), body)
    try:
        tokens = Tokenizer().tokenize(protected)
    except SqlglotError:
        tokens = []
    cuts = [t.start for t in tokens if t.token_type == TokenType.SEMICOLON]
    statements: list[Statement] = []
    start = 0
    for cut in [*cuts, len(body)]:
        text = body[start:cut]
        stripped = text.strip()
        if stripped:
            lead = len(text) - len(text.lstrip())
            offset = start + lead
            statements.append(Statement(stripped, offset, _placeholders(body, offset, stripped)))
        start = cut + 1
    return tuple(statements)


def _placeholders(body: str, offset: int, text: str) -> tuple[Placeholder, ...]:
    """Placeholders in ``text`` that are outside quotes and comments."""
    outside = _outside_literals(body)
    found = []
    for match in _PLACEHOLDER.finditer(text):
        if outside[offset + match.start()]:
            found.append(Placeholder(match.group(1), match.start(), match.end()))
    return tuple(found)


def _outside_literals(text: str) -> list[bool]:
    """For each character: is it outside string literals and comments?"""
    flags = [True] * (len(text) + 1)
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in ("'", '"'):
            j = i + 1
            while j < n:
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            for k in range(i, min(j + 1, n)):
                flags[k] = False
            i = j + 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                flags[k] = False
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                flags[k] = False
            i = j
        else:
            i += 1
    return flags


def _protect_placeholders(body: str) -> tuple[str, list[str]]:
    """Replace ``{name}`` (outside literals) by an identifier sqlglot parses."""
    outside = _outside_literals(body)
    names: list[str] = []

    def swap(match: re.Match[str]) -> str:
        if not outside[match.start()]:
            return match.group(0)
        names.append(match.group(1))
        return _PLACEHOLDER_IDENT + match.group(1)

    return _PLACEHOLDER.sub(swap, body), names


@functools.lru_cache(maxsize=1024)
def parse_cell(line: str, body: str) -> SqlCell:
    output, engine = parse_header(line)
    return SqlCell(output, engine, body, split_statements(body))


def table_key(table: exp.Table) -> str:
    """``schema.name`` in lower case, quoted or not: DuckDB finds ``"Sales"`` as
    ``sales`` (on a database whose quoted names keep their case, two tables
    differing only in case are taken as one: an extra link, never a missed one)."""
    parts = []
    for part in (table.args.get("catalog"), table.args.get("db"), table.this):
        if isinstance(part, exp.Identifier):
            parts.append(part.this.lower())
        elif part is not None and str(part):
            parts.append(str(part).lower())
    return ".".join(parts)


@functools.lru_cache(maxsize=1024)
def tables_of(body: str, dialect: str = "duckdb") -> TableUse:
    """Tables a cell creates, reads and drops, from sqlglot's parse tree.

    Cached: the graph and the engine both ask, and re-runs ask again.
    Raises :class:`sqlglot.errors.SqlglotError` when the SQL does not parse.
    """
    protected, _ = _protect_placeholders(body)
    creates: set[str] = set()
    reads: set[str] = set()
    drops: set[str] = set()
    changes: set[str] = set()
    needed: set[str] = set()  # dropped without IF EXISTS
    python_names: set[str] = set()
    made: set[str] = set()
    creates_new: set[str] = set()
    for tree in sqlglot.parse(protected, read=dialect):
        if tree is None:
            continue
        # (Made or dropped by a statement above in the cell: no table to find.)
        settled = made | drops
        new: set[str] = set()
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        targets: set[int] = set()
        kind = str(tree.args.get("kind", "")).upper()
        if isinstance(tree, exp.Create) and kind == "INDEX" and isinstance(tree.this, exp.Index):
            # ``CREATE INDEX idx ON t (x)``: makes ``idx``, changes ``t``.
            if isinstance(tree.this.this, exp.Identifier):
                creates.add(tree.this.this.this.lower())
                if not tree.args.get("replace"):
                    new.add(tree.this.this.this.lower())
            table = tree.this.args.get("table")
            if isinstance(table, exp.Table):
                changes.add(table_key(table))
                targets.add(id(table))
        elif isinstance(tree, exp.Create) and kind in _CATALOG_KINDS:
            target = tree.this.find(exp.Table) if tree.this is not None else None
            if target is not None:
                creates.add(table_key(target))
                targets.add(id(target))
                if not tree.args.get("replace"):
                    new.add(table_key(target))
        elif isinstance(tree, exp.Alter) and any(
                isinstance(a, exp.AlterRename) for a in tree.args.get("actions") or ()):
            # ``ALTER TABLE t RENAME TO u``: ``t`` goes, ``u`` comes.
            for table in (tree.this, *(a.this for a in tree.args["actions"]
                                       if isinstance(a, exp.AlterRename))):
                if isinstance(table, exp.Table):
                    targets.add(id(table))
            if isinstance(tree.this, exp.Table):
                drops.add(table_key(tree.this))
                needed.add(table_key(tree.this))
            for action in tree.args["actions"]:
                if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
                    creates.add(table_key(action.this))
        elif isinstance(tree, exp.Drop) and kind in _CATALOG_KINDS | {"INDEX"}:
            target = tree.find(exp.Table)
            if target is not None:
                drops.add(table_key(target))
                targets.add(id(target))
                if not tree.args.get("exists"):
                    needed.add(table_key(target))
        else:
            for target in _changed_tables(tree):
                changes.add(table_key(target))
                targets.add(id(target))
        for table in tree.find_all(exp.Table):
            if id(table) in targets or not isinstance(table.this, exp.Identifier):
                continue
            name = table.this.this
            if name.startswith(_PLACEHOLDER_IDENT):
                continue
            key = table_key(table)
            if not table.args.get("db") and key.lower() in ctes:
                continue
            if key in made:
                continue  # made by a statement above in the cell
            reads.add(key)
            if not table.args.get("db") and not table.this.quoted and name.isidentifier():
                python_names.add(name)
        for call in tree.find_all(exp.Anonymous):
            # A function no engine has built in: a macro a cell may make
            # (``plus(1)``); a sequence named in ``nextval('seq')``.
            name = str(call.name).lower()
            args = call.expressions
            if name in ("nextval", "currval") and args and isinstance(args[0], exp.Literal) \
                    and args[0].is_string:
                name = str(args[0].this).lower()
            if name and name not in made:
                reads.add(name)
        # (A statement reads before it makes: ``CREATE OR REPLACE TABLE t AS
        # SELECT ... FROM t`` reads the ``t`` above.)
        creates_new |= new - settled
        made |= creates
    return TableUse(frozenset(creates), frozenset(reads), frozenset(drops),
                    frozenset(changes), frozenset(drops - needed), frozenset(python_names),
                    frozenset(creates_new))


#: What ``CREATE`` and ``DROP`` make or remove in the catalog, named like tables.
_CATALOG_KINDS = frozenset({"TABLE", "VIEW", "SEQUENCE", "MACRO", "FUNCTION"})


def _changed_tables(tree: exp.Expr) -> list[exp.Table]:
    """The tables a statement changes in place (``INSERT INTO t``...)."""
    if isinstance(tree, exp.TruncateTable):
        return [t for t in tree.expressions if isinstance(t, exp.Table)]
    changing = isinstance(tree, (exp.Insert, exp.Update, exp.Delete, exp.Merge)) or (
        isinstance(tree, exp.Alter) and str(tree.args.get("kind", "")).upper() == "TABLE"
    ) or (isinstance(tree, exp.Copy) and tree.args.get("kind") is True)
    target = tree.this if changing else None
    if isinstance(target, exp.Schema):
        target = target.this
    return [target] if isinstance(target, exp.Table) else []


def analyse_sql(line: str, body: str) -> MagicNames:
    """The names of a SQL cell for the dependency graph."""
    try:
        output, _engine = parse_header(line)
    except SqlCellError:
        output = None
    _, placeholders = _protect_placeholders(body)
    defs: set[str] = {output} if output else set()
    refs: set[str] = set(placeholders)
    try:
        use = tables_of(body)
    except SqlglotError:
        use = TableUse()  # the database will report the error when it runs
    defs |= {TABLE_PREFIX + t for t in use.creates | use.changes | use.drops}
    refs |= {TABLE_PREFIX + t for t in use.reads}
    refs |= use.python_names
    # (What it reads before it defines it, it reads from above: ``%%sql df`` over
    # ``SELECT ... FROM df``, ``SELECT {k} + 1`` into ``k``.)
    # Changing or dropping a table made above reads it (unless the cell made it);
    # ``DROP TABLE IF EXISTS t`` needs none, so it never reads one made below.
    refs |= {TABLE_PREFIX + t for t in (use.changes | use.drops) - use.creates}
    weak = {TABLE_PREFIX + t for t in use.drops_if_exists - use.creates - use.changes}
    # ``CREATE TABLE t`` (no ``OR REPLACE``) fails, or does nothing, when a cell
    # above made ``t``: it reads that one (only above: none needed), so it runs
    # again when that cell stops making it.
    refs |= {TABLE_PREFIX + t for t in use.creates_new}
    weak |= {TABLE_PREFIX + t for t in use.creates_new}
    # Dropped and not made again: the cell leaves the table gone.
    deletes = {TABLE_PREFIX + t for t in use.drops - use.creates}
    return MagicNames(frozenset(defs), frozenset(refs), frozenset(weak), frozenset(deletes))

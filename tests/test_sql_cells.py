"""Pure tests of SQL cell parsing and table extraction (no database)."""

from __future__ import annotations

import pytest

from reactive_kernel.analysis import analyse
from reactive_kernel.sql.cells import (
    SqlCellError,
    analyse_sql,
    parse_header,
    split_statements,
    tables_of,
)


@pytest.mark.parametrize(
    ("sql", "creates", "reads", "python"),
    [
        ("SELECT * FROM t", set(), {"t"}, {"t"}),
        ("SELECT * FROM a JOIN b ON a.id = b.id LEFT JOIN c USING (id)", set(),
         {"a", "b", "c"}, {"a", "b", "c"}),
        ("SELECT * FROM (SELECT * FROM inner_t) sub WHERE x IN (SELECT y FROM other)", set(),
         {"inner_t", "other"}, {"inner_t", "other"}),
        ("WITH c AS (SELECT * FROM base) SELECT * FROM c JOIN more USING (k)", set(),
         {"base", "more"}, {"base", "more"}),
        # DuckDB finds quoted names without case too.
        ('SELECT * FROM "Mixed Case" JOIN "Q"', set(), {"mixed case", "q"}, set()),
        ('CREATE TABLE "Sales" AS SELECT 1; SELECT * FROM sales', {"sales"}, set(), set()),
        ("SELECT * FROM Sales", set(), {"sales"}, {"Sales"}),
        ("SELECT * FROM warehouse.orders o JOIN db.s.items i ON o.k = i.k", set(),
         {"warehouse.orders", "db.s.items"}, set()),
        ("CREATE TABLE out_t AS SELECT * FROM src", {"out_t"}, {"src"}, {"src"}),
        ("CREATE OR REPLACE VIEW v AS SELECT * FROM src", {"v"}, {"src"}, {"src"}),
        ("CREATE TABLE t2 (a INT); INSERT INTO t2 SELECT * FROM t2_src", {"t2"},
         {"t2_src"}, {"t2_src"}),
        # The target is changed (``changes``), not read from a Python frame.
        ("INSERT INTO target SELECT * FROM source", set(), {"source"}, {"source"}),
        ("SELECT * FROM {frame} WHERE x > {limit}", set(), set(), set()),
        ("CREATE TABLE made AS SELECT 1; SELECT * FROM made", {"made"}, set(), set()),
    ],
)
def test_tables_of(sql: str, creates: set[str], reads: set[str], python: set[str]) -> None:
    use = tables_of(sql)
    assert (set(use.creates), set(use.reads), set(use.python_names)) == (creates, reads, python)


def test_drops_are_reported() -> None:
    use = tables_of("DROP TABLE IF EXISTS old_t; DROP VIEW s.v")
    assert set(use.drops) == {"old_t", "s.v"}
    assert set(use.creates) == set() and set(use.reads) == set()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", (None, None)),
        ("result", ("result", None)),
        ("result --engine pg", ("result", "pg")),
        ("--engine=pg", (None, "pg")),
        ("-e warehouse out", ("out", "warehouse")),
    ],
)
def test_parse_header(line: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_header(line) == expected


@pytest.mark.parametrize("line", ["1bad", "a b", "--nope", "--engine"])
def test_bad_headers_are_clear_errors(line: str) -> None:
    with pytest.raises(SqlCellError):
        parse_header(line)


def test_split_statements_respects_quotes_and_comments() -> None:
    body = "SELECT 'a;b' AS x;\n-- c;d\nSELECT {v}; /* e;f */ SELECT 3;"
    statements = split_statements(body)
    assert [s.text for s in statements] == [
        "SELECT 'a;b' AS x", "-- c;d\nSELECT {v}", "/* e;f */ SELECT 3"]
    assert [[p.name for p in s.placeholders] for s in statements] == [[], ["v"], []]
    assert body[statements[1].offset:].startswith("-- c;d")


def test_placeholders_inside_literals_are_not_bound() -> None:
    (statement,) = split_statements("SELECT '{not_me}', \"{nor_me}\", {yes} -- {no}")
    assert [p.name for p in statement.placeholders] == ["yes"]


def test_analyse_sql_defs_and_refs() -> None:
    names = analyse_sql(
        "summary", "CREATE OR REPLACE TABLE agg AS SELECT k, sum(v) FROM facts "
        "WHERE v > {threshold} GROUP BY k; SELECT * FROM agg JOIN dims USING (k)")
    assert names.defs == {"summary", "sql:agg"}
    assert names.refs == {"threshold", "facts", "sql:facts", "dims", "sql:dims"}
    assert names.weak == names.deletes == set()


def test_unparsable_sql_still_links_placeholders() -> None:
    names = analyse_sql("out", "SELEC oops {x}")
    assert names.defs == {"out"} and names.refs == {"x"}


def test_sql_cells_through_ipython_transform() -> None:
    from IPython.core.inputtransformer2 import TransformerManager

    transform = TransformerManager().transform_cell
    result = analyse("%%sql top --engine duckdb\nSELECT * FROM orders WHERE id = {oid}\n",
                     transform, cell_magics={"sql": analyse_sql})
    assert result.defs == {"top"}
    assert result.refs == {"orders", "sql:orders", "oid"}
    # Without the SQL analyser a %%sql cell contributes no names at all.
    bare = analyse("%%sql top\nSELECT * FROM orders", transform)
    assert bare.defs == frozenset() and bare.refs == frozenset()


def test_changes_and_drops_of_tables_are_definitions_and_reads() -> None:
    names = analyse_sql("", "INSERT INTO t SELECT * FROM src WHERE v > {k}")
    assert names.defs == {"sql:t"} and names.refs == {"sql:t", "src", "sql:src", "k"}
    assert names.weak == names.deletes == set()
    for body in ("UPDATE t SET x = 1", "DELETE FROM t WHERE x > 1", "ALTER TABLE t ADD y INT",
                 "TRUNCATE t", "COPY t FROM 'f.csv'", "DROP TABLE t",
                 "MERGE INTO t USING u ON t.a = u.a WHEN MATCHED THEN DELETE"):
        names = analyse_sql("", body)
        assert "sql:t" in names.defs and "sql:t" in names.refs, body
        assert names.weak == set() and names.deletes == ({"sql:t"} if "DROP" in body else set())
    # Made in the same cell: the insert reads no table above (the plain CREATE
    # reads whether one exists, weakly: see below).
    names = analyse_sql("", "CREATE OR REPLACE TABLE t (x INT); INSERT INTO t VALUES (1)")
    assert names.defs == {"sql:t"} and names.refs == set()
    names = analyse_sql("", "CREATE TABLE t (x INT); INSERT INTO t VALUES (1)")
    assert names.defs == {"sql:t"} and names.refs == names.weak == {"sql:t"}
    # Copied out: a read only.
    names = analyse_sql("", "COPY t TO 'f.csv'")
    assert names.defs == set() and "sql:t" in names.refs


def test_a_plain_create_reads_whether_a_table_was_made_above() -> None:
    """``CREATE TABLE t`` fails (``IF NOT EXISTS``: does nothing) when a cell above
    made ``t``: a weak read of it, so it runs again when that cell stops making
    it; ``OR REPLACE``, or a drop or a create before it in the cell, needs none."""
    for body in ("CREATE TABLE t AS SELECT 1", "CREATE TABLE IF NOT EXISTS t (x INT)",
                 "CREATE VIEW t AS SELECT 1", "CREATE TABLE t (x INT); INSERT INTO t VALUES (1)"):
        names = analyse_sql("", body)
        assert names.defs == names.refs == names.weak == {"sql:t"}, body
        assert names.deletes == set(), body
    for body in ("CREATE OR REPLACE TABLE t AS SELECT 1",
                 "DROP TABLE IF EXISTS t; CREATE TABLE t (x INT)",
                 "CREATE OR REPLACE TABLE t (x INT); CREATE TABLE IF NOT EXISTS t (x INT)"):
        names = analyse_sql("", body)
        assert names.defs == {"sql:t"} and names.refs == names.weak == set(), body


def test_a_drop_if_exists_reads_only_a_table_made_above() -> None:
    """``DROP TABLE IF EXISTS t`` needs no table: its read never binds below."""
    names = analyse_sql("", "DROP TABLE IF EXISTS t; DROP VIEW IF EXISTS v")
    assert names.weak == {"sql:t", "sql:v"} == names.deletes == names.defs == names.refs
    # Dropped, then made again: the cell leaves the table there.
    names = analyse_sql("", "DROP TABLE IF EXISTS t; CREATE TABLE t (x INT)")
    assert names.defs == {"sql:t"} and names.refs == names.weak == names.deletes == set()
    from IPython.core.inputtransformer2 import TransformerManager

    found = analyse("%%sql\nDROP TABLE IF EXISTS t", TransformerManager().transform_cell,
                    cell_magics={"sql": analyse_sql})
    assert found.weak == found.refs == found.defs == found.deletes == {"sql:t"}
    found = analyse("%%sql\nDROP TABLE t", TransformerManager().transform_cell,
                    cell_magics={"sql": analyse_sql})
    assert found.weak == set() and found.refs == found.deletes == {"sql:t"}

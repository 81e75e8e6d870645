"""SQL cells in a real kernel: embedded DuckDB and a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from .conftest import KernelHarness
from .postgres import PASSWORD, USER, PostgresServer
from .test_kernel import graph_request


def ids(*names: str) -> list[str]:
    prefix = KernelHarness.unique("sql")
    return [f"{prefix}-{n}" for n in names]


def html_of(run, cell: str) -> str:  # type: ignore[no-untyped-def]
    for m in run.outputs(cell):
        if m["msg_type"] == "execute_result":
            return m["content"]["data"].get("text/html", "")
    return ""


def test_python_and_sql_cells_react_to_each_other(kernel: KernelHarness) -> None:
    frame, limit, query, reader = ids("frame", "limit", "query", "reader")
    kernel.ok("import pandas as sq_pd\nsq_sales = sq_pd.DataFrame("
              "{'region': ['n', 's', 'n', 'e'], 'amount': [10, 20, 30, 40]})", frame)
    kernel.ok("sq_limit = 15", limit)
    first = kernel.ok("%%sql sq_big\nSELECT region, sum(amount)::INT AS total FROM sq_sales\n"
                      "WHERE amount > {sq_limit} GROUP BY region ORDER BY region", query)
    assert "3 rows × 2 columns" in first.text(query)
    kernel.ok("print(int(sq_big.total.sum()))", reader)
    edit = kernel.ok("sq_limit = 5", limit)
    assert edit.reactive["ran"] == [limit, query, reader]
    assert edit.text(reader) == "100\n"
    assert kernel.value("type(sq_big).__name__") == "'DataFrame'"
    # Changing the DataFrame re-runs the query that reads it by name.
    edit = kernel.ok("import pandas as sq_pd\nsq_sales = sq_pd.DataFrame("
                     "{'region': ['w'], 'amount': [7]})", frame)
    assert edit.reactive["ran"] == [frame, query, reader]
    assert edit.text(reader) == "7\n"


def test_placeholders_are_bound_not_spliced(kernel: KernelHarness) -> None:
    value, query = ids("value", "query")
    kernel.ok("sq_evil = \"x' OR '1'='1\"", value)
    run = kernel.ok("%%sql sq_lit\nSELECT {sq_evil} AS v, length({sq_evil}) AS n", query)
    assert kernel.value("sq_lit.v[0]") == repr("x' OR '1'='1")
    assert kernel.value("int(sq_lit.n[0])") == "12"
    assert "x&#x27; OR &#x27;1&#x27;=&#x27;1" in html_of(run, query) or "x' OR" in html_of(
        run, query)
    missing = kernel.run("%%sql\nSELECT {sq_not_defined_anywhere}", KernelHarness.unique())
    assert missing.status == "error"
    assert "sq_not_defined_anywhere" in missing.reply["content"]["evalue"]


def test_a_frame_changed_in_place_is_queried_as_it_now_is(kernel: KernelHarness) -> None:
    """A DataFrame a SQL cell queried, then changed in place (a column given
    anew), is scanned as it now is by the SQL cells after it: below the change,
    and the first one once the change is moved above it (it was scanned as
    when first registered: the same object, so not registered again)."""
    frame, first, change, second = ids("frame", "first", "change", "second")
    kernel.ok("import pandas as sq_pd\nsq_live = sq_pd.DataFrame({'x': [1.0, 2.0]})", frame)
    kernel.ok("%%sql sq_live1\nSELECT sum(x) AS s FROM sq_live", first)
    assert kernel.value("float(sq_live1.s[0])") == "3.0"
    kernel.ok("sq_live['x'] = sq_live['x'] + 1", change)
    kernel.ok("%%sql sq_live2\nSELECT sum(x) AS s FROM sq_live", second)
    assert kernel.value("float(sq_live2.s[0])") == "5.0"
    mine = (frame, first, change, second)
    others = [c for c in graph_request(kernel)["notebook_order"] if c not in mine]
    moved = graph_request(kernel, order=[*others, frame, change, first, second])
    assert first in moved["reactive"]["ran"]
    assert kernel.value("float(sq_live1.s[0])") == "5.0"


def test_dataframe_placeholder_and_arrow_frames(kernel: KernelHarness) -> None:
    data, query = ids("data", "query")
    kernel.ok("import pyarrow as sq_pa\nsq_tbl = sq_pa.table({'x': [1, 2, 3, 4]})", data)
    run = kernel.ok("%%sql sq_sum\nSELECT sum(x)::INT AS s FROM {sq_tbl} WHERE x > 1", query)
    assert kernel.value("int(sq_sum.s[0])") == "9"
    assert "1 row × 1 column" in run.text(query)


def test_tables_link_sql_cells_and_ddl_reports(kernel: KernelHarness) -> None:
    make, use, base = ids("make", "use", "base")
    kernel.ok("sq_n = 3", base)
    made = kernel.ok("%%sql\nCREATE OR REPLACE TABLE sq_t AS SELECT range AS i FROM range({sq_n})",
                     make)
    assert "CREATE: done" in made.text(make)
    kernel.ok("%%sql sq_count\nSELECT count(*)::INT AS n FROM sq_t", use)
    edit = kernel.ok("sq_n = 5", base)
    assert edit.reactive["ran"] == [base, make, use]
    assert kernel.value("int(sq_count.n[0])") == "5"
    inserted = kernel.ok("%%sql\nINSERT INTO sq_t VALUES (10), (11)", KernelHarness.unique())
    assert "INSERT: 2 rows" in inserted.text()
    # The cell stops creating the table: it leaves the graph, readers re-run.
    dropped = kernel.run("%%sql\nSELECT 1 AS nothing", make)
    assert use in dropped.reactive["ran"]
    msg = kernel.kc.session.msg("reactive_graph_request", {})
    kernel.kc.shell_channel.send(msg)
    cells = kernel.collect(msg).reply["content"]["cells"]
    assert "sql:sq_t" not in cells[make]["defines"]
    assert "sql:sq_t" in cells[use]["reads"]


def test_table_changes_re_run_from_the_table_s_definer(kernel: KernelHarness) -> None:
    """A table has one version in the database: a cell changing it in place
    re-runs on the version the cells above it leave, as top to bottom would."""
    make, fill, scale, total = ids("make", "fill", "scale", "total")
    kernel.ok("%%sql\nCREATE TABLE sq_rows (x INT)", make)
    kernel.ok("%%sql\nINSERT INTO sq_rows VALUES (1), (2)", fill)
    kernel.ok("%%sql\nUPDATE sq_rows SET x = x * 10 WHERE x > 1", scale)
    kernel.ok("%%sql sq_total\nSELECT sum(x)::INT AS s FROM sq_rows", total)
    assert kernel.value("int(sq_total.s[0])") == "21"
    # Run again, the insert does not add its rows twice: the table is made
    # anew (a plain CREATE TABLE of a table no cell above makes replaces the
    # one its last run made) and the update and the reader run after it.
    again = kernel.ok("%%sql\nINSERT INTO sq_rows VALUES (1), (2)", fill)
    assert again.reactive["restored"] == [make]
    assert again.reactive["ran"] == [make, fill, scale, total]
    assert kernel.value("int(sq_total.s[0])") == "21"
    edit = kernel.ok("%%sql\nINSERT INTO sq_rows VALUES (1), (2), (3)", fill)
    assert edit.reactive["ran"] == [make, fill, scale, total]
    assert kernel.value("int(sq_total.s[0])") == "51"
    edit = kernel.ok("%%sql\nCREATE TABLE sq_rows (x BIGINT)", make)
    assert edit.reactive["ran"] == [make, fill, scale, total]
    assert kernel.value("int(sq_total.s[0])") == "51"


def test_a_table_redefined_below_is_read_as_its_nearest_definer_left_it(
        kernel: KernelHarness) -> None:
    first, early, second, late = ids("first", "early", "second", "late")
    kernel.ok("%%sql\nCREATE OR REPLACE TABLE sq_two AS SELECT 1 AS x", first)
    kernel.ok("%%sql sq_early\nSELECT x FROM sq_two", early)
    kernel.ok("%%sql\nCREATE OR REPLACE TABLE sq_two AS SELECT 2 AS x", second)
    kernel.ok("%%sql sq_late\nSELECT x + 100 AS y FROM sq_two", late)
    edit = kernel.ok("%%sql\nCREATE OR REPLACE TABLE sq_two AS SELECT 7 AS x", first)
    assert edit.reactive["ran"] == [first, early]
    assert kernel.value("int(sq_early.x[0])") == "7"
    # The database now holds the first cell's table: a reader of the second's
    # gets it made again first.
    again = kernel.ok("%%sql sq_late\nSELECT x + 100 AS y FROM sq_two", late)
    assert again.reactive["restored"] == [second]
    assert again.reactive["ran"] == [second, late]
    assert kernel.value("int(sq_late.y[0])") == "102"


def test_deleting_the_cell_that_made_a_table_or_a_frame_deletes_it(
        kernel: KernelHarness) -> None:
    make, frame, read_table, read_frame = ids("make", "frame", "read_table", "read_frame")
    kernel.ok("%%sql\nCREATE TABLE sq_gone AS SELECT 1 AS x", make)
    kernel.ok("import pandas as sq_pd\nsq_gone_df = sq_pd.DataFrame({'x': [1]})", frame)
    kernel.ok("%%sql\nSELECT x FROM sq_gone", read_table)
    kernel.ok("%%sql\nSELECT x FROM sq_gone_df", read_frame)
    msg = kernel.kc.session.msg("reactive_graph_request", {"remove": [make, frame]})
    kernel.kc.shell_channel.send(msg)
    kernel.collect(msg)
    # As run from the top without those cells: neither exists.
    for cell, name in ((read_table, "sq_gone"), (read_frame, "sq_gone_df")):
        run = kernel.run(f"%%sql\nSELECT x FROM {name}", cell)
        assert run.status == "error" and "does not exist" in run.reply["content"]["evalue"]


def test_a_create_that_found_the_table_made_above_runs_again_when_that_cell_stops(
        kernel: KernelHarness) -> None:
    """A plain ``CREATE TABLE t`` below a cell making ``t`` fails (``already
    exists``), as top to bottom; when that cell stops making it (edited, deleted),
    it runs again and makes it, and its readers read its table, not the one the
    cell above left (found by tests/test_edit_equivalence_kernel3.py)."""
    for way in ("edit", "delete"):
        first, second, read = ids("first", "second", "read")
        kernel.ok("%%sql\nCREATE TABLE sq_twice AS SELECT 5 AS a", first)
        assert kernel.run("%%sql\nCREATE TABLE sq_twice AS SELECT 9 AS a",
                          second).status == "error"
        kernel.ok("%%sql sq_twice_s\nSELECT sum(a) AS s FROM sq_twice", read)
        assert kernel.value("int(sq_twice_s.s[0])") == "5"
        if way == "edit":
            run = kernel.ok("sq_twice_x = 1", first)
            assert second in run.reactive["ran"] and not run.reactive["errors"], way
        else:
            graph_request(kernel, remove=[first])
        assert kernel.value("int(sq_twice_s.s[0])") == "9", way
        graph_request(kernel, remove=[first, second, read])


def test_a_drop_if_exists_above_the_table_s_cell_resets_it(kernel: KernelHarness) -> None:
    """``DROP TABLE IF EXISTS`` above the cell making the table (a notebook's
    reset idiom) needs no table from below: editing the cell below never re-runs
    the drop after it, and a plain CREATE TABLE re-run under the drop finds no
    table, as top to bottom."""
    k, drop, make, read = ids("k", "drop", "make", "read")
    kernel.ok("sq_k = 1", k)
    kernel.ok("%%sql\nDROP TABLE IF EXISTS sq_reset", drop)
    kernel.ok("%%sql\nCREATE TABLE sq_reset AS SELECT {sq_k} AS a", make)
    kernel.ok("%%sql sq_reset_a\nSELECT a FROM sq_reset", read)
    edit = kernel.ok("%%sql\nCREATE TABLE sq_reset AS SELECT {sq_k} + 10 AS a", make)
    assert edit.reactive["ran"] == [make, read]
    assert kernel.value("int(sq_reset_a.a[0])") == "11"
    edit = kernel.ok("sq_k = 2", k)
    assert edit.reactive["ran"] == [k, make, read]
    assert kernel.value("int(sq_reset_a.a[0])") == "12"
    replaced = ids("replace")[0]
    kernel.ok("%%sql\nCREATE OR REPLACE TABLE sq_reset2 AS SELECT 1 AS a", replaced)
    kernel.ok("%%sql\nDROP TABLE IF EXISTS sq_reset2", drop)
    # Top to bottom the drop, above, finds nothing: the table made below stays.
    edit = kernel.ok("%%sql\nCREATE OR REPLACE TABLE sq_reset2 AS SELECT 2 AS a", replaced)
    assert edit.reactive["ran"] == [replaced]


def test_rows_added_to_a_table_no_cell_makes_any_more_fail_as_top_to_bottom(
        kernel: KernelHarness) -> None:
    for way in ("rename", "delete"):
        make, fill, read = ids("make", "fill", "read")
        kernel.ok("%%sql\nCREATE TABLE sq_pile AS SELECT 1 AS a", make)
        kernel.ok("%%sql\nINSERT INTO sq_pile VALUES (2)", fill)
        kernel.ok("%%sql sq_pile_n\nSELECT count(*)::INT AS n FROM sq_pile", read)
        assert kernel.value("int(sq_pile_n.n[0])") == "2"
        if way == "rename":
            kernel.ok("%%sql\nCREATE TABLE sq_pile2 AS SELECT 1 AS a", make)
        else:
            msg = kernel.kc.session.msg("reactive_graph_request", {"remove": [make]})
            kernel.kc.shell_channel.send(msg)
            kernel.collect(msg)
        run = kernel.run("%%sql\nINSERT INTO sq_pile VALUES (2)", fill)
        assert run.status == "error" and "does not exist" in run.reply["content"]["evalue"], way
        run = kernel.run("%%sql sq_pile_n\nSELECT count(*)::INT AS n FROM sq_pile", read)
        assert run.status == "error" and "does not exist" in run.reply["content"]["evalue"], way
        kernel.ok("%%sql\nDROP TABLE IF EXISTS sq_pile2", ids("clean")[0])


def test_a_cell_reading_what_it_then_defines_reads_it_from_above(kernel: KernelHarness) -> None:
    """The review of 2026-12-06: ``%%sql sq_df`` over ``FROM sq_df``, and ``CREATE
    OR REPLACE TABLE t AS SELECT ... FROM t``, read the name from above, as
    ``df = f(df)`` does: an edit above re-runs them."""
    frame, query, reader, make, scale, replace_, total = ids(
        "frame", "query", "reader", "make", "scale", "replace", "total")
    kernel.ok("import pandas as sq_pd\nsq_df = sq_pd.DataFrame({'x': [1, 2, 3]})", frame)
    kernel.ok("%%sql sq_df\nSELECT x * 10 AS x FROM sq_df", query)
    assert kernel.ok("print(int(sq_df.x.sum()))", reader).text(reader) == "60\n"
    edit = kernel.ok("import pandas as sq_pd\nsq_df = sq_pd.DataFrame({'x': [1, 2, 3, 4]})",
                     frame)
    assert edit.text(reader) == "100\n"
    kernel.ok("%%sql\nCREATE TABLE sq_rt AS SELECT range AS x FROM range(3)", make)
    kernel.ok("sq_k = 10", scale)
    kernel.ok("%%sql\nCREATE OR REPLACE TABLE sq_rt AS SELECT x * {sq_k} AS x FROM sq_rt",
              replace_)
    kernel.ok("%%sql sq_sum\nSELECT sum(x)::INT AS s FROM sq_rt", total)
    kernel.ok("sq_k = 100", scale)
    edit = kernel.ok("%%sql\nCREATE TABLE sq_rt AS SELECT range AS x FROM range(4)", make)
    assert replace_ in edit.reactive["ran"]
    assert kernel.value("int(sq_sum.s[0])") == "600"


def test_sequences_macros_indexes_and_renames_run_again(kernel: KernelHarness) -> None:
    """The review of 2026-12-06: a cell making a DuckDB sequence, macro or index
    failed when run again (``already exists``); an edited macro did not re-run
    its callers; ``ALTER TABLE t RENAME TO u`` failed once ``t`` was made again."""
    seq, macro, call, table, index, rename, reader = ids(
        "seq", "macro", "call", "table", "index", "rename", "reader")
    kernel.ok("%%sql\nCREATE SEQUENCE sq_seq START 1", seq)
    assert kernel.ok("%%sql\nCREATE SEQUENCE sq_seq START 1", seq).status == "ok"
    kernel.ok("%%sql\nCREATE MACRO sq_plus(a) AS a + 1", macro)
    kernel.ok("%%sql sq_v\nSELECT sq_plus(1) AS v", call)
    edit = kernel.ok("%%sql\nCREATE MACRO sq_plus(a) AS a + 2", macro)
    assert call in edit.reactive["ran"] and kernel.value("int(sq_v.v[0])") == "3"
    kernel.ok("%%sql\nCREATE TABLE sq_indexed AS SELECT 1 AS x", ids("indexed")[0])
    kernel.ok("%%sql\nCREATE INDEX sq_idx ON sq_indexed (x)", index)
    assert kernel.ok("%%sql\nCREATE INDEX sq_idx ON sq_indexed (x)", index).status == "ok"
    kernel.ok("%%sql\nCREATE TABLE sq_named AS SELECT 1 AS x", table)
    kernel.ok("%%sql\nALTER TABLE sq_named RENAME TO sq_renamed", rename)
    kernel.ok("%%sql sq_got\nSELECT x FROM sq_renamed", reader)
    edit = kernel.ok("%%sql\nCREATE TABLE sq_named AS SELECT 2 AS x", table)
    assert edit.reactive["errors"] == {}
    assert kernel.value("int(sq_got.x[0])") == "2"


def test_large_results_are_truncated_with_the_true_count(kernel: KernelHarness) -> None:
    (query,) = ids("query")
    run = kernel.ok("%%sql sq_many\nSELECT range AS i FROM range(1234)", query)
    page = html_of(run, query)
    assert "1,234 rows × 1 column" in page and "showing the first 50" in page
    assert page.count("<tr>") <= 52
    assert kernel.value("len(sq_many)") == "1234"


def test_sql_errors_name_the_problem_and_the_line(kernel: KernelHarness) -> None:
    cell = KernelHarness.unique()
    run = kernel.run("%%sql\nSELECT 1;\nSELECT * FORM nowhere", cell)
    content = run.reply["content"]
    assert run.status == "error" and content["ename"] == "SqlExecutionError"
    assert "syntax error" in content["evalue"] and "cell line 3" in content["evalue"]
    assert "Traceback" not in "\n".join(content["traceback"])
    run = kernel.run("%%sql\nSELECT * FROM sq_no_such_table", KernelHarness.unique())
    assert "sq_no_such_table" in run.reply["content"]["evalue"]
    assert "Catalog Error" in run.reply["content"]["evalue"]
    # The kernel keeps going.
    assert kernel.ok("%%sql\nSELECT 42 AS answer", KernelHarness.unique()).text().startswith(
        " answer\n     42")


def test_polars_output_format(fresh_kernel: KernelHarness) -> None:
    k = fresh_kernel
    k.ok("%config SqlMagics.dataframe = 'polars'")
    k.ok("%%sql out\nSELECT 1 AS a UNION ALL SELECT 2")
    assert k.value("type(out).__module__.split('.')[0]") == "'polars'"


def test_interrupt_cancels_a_running_duckdb_query(fresh_kernel: KernelHarness) -> None:
    k = fresh_kernel
    request = k.request("%%sql\nSELECT count(*) FROM range(100000000000) a, range(10) b", "q")
    # Interrupt once the query is running (the kernel went busy on it).
    seen_busy = threading.Event()
    while not seen_busy.is_set():
        m = k.kc.get_iopub_msg(timeout=30)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "busy" and \
                m["parent_header"].get("msg_id") == request["header"]["msg_id"]:
            seen_busy.set()
    done = threading.Event()
    k.interrupt_until(done, first=0.5)
    try:
        result = k.collect(request, timeout=60)
    finally:
        done.set()
    assert result.status == "error"
    assert result.reply["content"]["ename"] == "KeyboardInterrupt"
    assert k.ok("%%sql\nSELECT 1 AS ok").text().startswith(" ok\n  1")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    yield server
    server.stop()


def test_postgresql_through_sqlalchemy(kernel: KernelHarness, postgres: PostgresServer) -> None:
    connect, make, base, query, reader = ids("connect", "make", "base", "query", "reader")
    shown = kernel.ok(f"%sql_connect {postgres.url} --name pg --no-default", connect).text()
    assert "pg: postgresql" in shown and PASSWORD not in shown and "***" in shown
    kernel.ok("%%sql --engine pg\nDROP TABLE IF EXISTS pg_items;\n"
              "CREATE TABLE pg_items (name TEXT, price INT);\n"
              "INSERT INTO pg_items VALUES ('a', 5), ('b', 15), ('c''s', 25)", make)
    kernel.ok("pg_min = 10\npg_name = \"x' OR '1'='1\"", base)
    kernel.ok("%%sql pg_rows --engine pg\nSELECT name, price FROM pg_items "
              "WHERE price > {pg_min} AND name <> {pg_name} ORDER BY price", query)
    kernel.ok("print(list(pg_rows.name))", reader)
    edit = kernel.ok("pg_min = 1\npg_name = 'b'", base)
    assert edit.reactive["ran"] == [base, query, reader]
    assert edit.text(reader) == "['a', \"c's\"]\n"
    # Run again, an insert is not added twice: the table's cell (which drops and
    # makes it, as other databases need: the kernel drops nothing there) runs first.
    fill, count = ids("fill", "count")
    kernel.ok("%%sql --engine pg\nINSERT INTO pg_items VALUES ('d', 35)", fill)
    again = kernel.ok("%%sql --engine pg\nINSERT INTO pg_items VALUES ('d', 35)", fill)
    assert again.reactive["restored"] == [make]
    kernel.ok("%%sql pg_n --engine pg\nSELECT count(*)::INT AS n FROM pg_items", count)
    assert kernel.value("int(pg_n.n[0])") == "4"
    # A literal that looks like an injection is just a value.
    injected = kernel.ok("%%sql pg_lit --engine pg\nSELECT {pg_name} || ':' AS v, "
                         "'12:30'::time AS t", KernelHarness.unique())
    assert kernel.value("pg_lit.v[0]") == "'b:'"
    assert "12:30" in injected.text()
    # Errors: the database's message and line; no password anywhere.
    bad = kernel.run("%%sql --engine pg\nSELECT price FROM pg_items\nWHERE nosuchcol = 1",
                     KernelHarness.unique())
    content = bad.reply["content"]
    assert bad.status == "error" and "nosuchcol" in content["evalue"]
    assert PASSWORD not in str(bad.reply) and PASSWORD not in str(bad.outputs())
    wrong = postgres.url.replace(PASSWORD, "wrong-password")
    failed = kernel.run(f"%sql_connect {wrong} --name pg2", KernelHarness.unique())
    assert failed.status == "error"
    # The user typed it in the request; no output or reply repeats it.
    assert "wrong-password" not in str(failed.reply) and "wrong-password" not in str(
        failed.outputs())
    assert USER in failed.reply["content"]["evalue"]


def test_interrupt_cancels_a_running_postgresql_query(fresh_kernel: KernelHarness,
                                                      postgres: PostgresServer) -> None:
    k = fresh_kernel
    k.ok(f"%sql_connect {postgres.url} --name pg")
    request = k.request("%%sql\nSELECT pg_sleep(60)", "pg-slow")
    busy = threading.Event()
    while not busy.is_set():
        m = k.kc.get_iopub_msg(timeout=30)
        if m["msg_type"] == "execute_input" and \
                m["parent_header"].get("msg_id") == request["header"]["msg_id"]:
            busy.set()
    done = threading.Event()
    k.interrupt_until(done, first=1.0)
    try:
        result = k.collect(request, timeout=30)  # far less than the 60 s sleep
    finally:
        done.set()
    assert result.reply["content"]["ename"] == "KeyboardInterrupt"
    # The server-side query was cancelled: the connection is usable at once.
    assert k.ok("%%sql --engine pg\nSELECT 7 AS seven").text().startswith(" seven\n     7")

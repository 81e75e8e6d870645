"""How a SQL cell's result looks: an HTML table with counts, and plain text."""

from __future__ import annotations

import html
from typing import Any

from .engines import QueryResult


def _head(frame: Any, rows: int) -> Any:
    """The first rows as a pandas DataFrame, whatever the result format."""
    module = type(frame).__module__.split(".")[0]
    if module == "polars":
        return frame.head(rows).to_pandas()
    if module == "pyarrow":
        return frame.slice(0, rows).to_pandas()
    return frame.head(rows)


class SqlResultView:
    """Displayed as a SQL cell's result; the DataFrame itself goes to OUTPUT_NAME."""

    def __init__(self, result: QueryResult, display_rows: int = 50) -> None:
        self.result = result
        self.display_rows = display_rows

    def _summary(self) -> str:
        r = self.result
        parts = []
        if r.frame is not None:
            shown = min(r.rows, self.display_rows)
            parts.append(f"{r.rows:,} row{'s' if r.rows != 1 else ''} × {len(r.columns)} "
                         f"column{'s' if len(r.columns) != 1 else ''}")
            if shown < r.rows:
                parts.append(f"showing the first {shown:,}")
        parts.extend(r.messages if r.frame is None else [])
        parts.append(f"{r.elapsed * 1000:.1f} ms on {r.engine}")
        return " · ".join(parts)

    def _repr_html_(self) -> str:
        r = self.result
        caption = f'<div class="rk-sql-summary">{html.escape(self._summary())}</div>'
        if r.frame is None:
            return caption
        table = _head(r.frame, self.display_rows).to_html(
            index=False, border=0, escape=True, classes="rk-sql-table", na_rep="NULL")
        return f'<div class="rk-sql">{caption}{table}</div>'

    def __repr__(self) -> str:
        r = self.result
        if r.frame is None:
            return self._summary()
        head = _head(r.frame, self.display_rows).to_string(index=False, na_rep="NULL")
        return f"{head}\n[{self._summary()}]"

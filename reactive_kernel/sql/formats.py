"""What a SQL cell's OUTPUT_NAME can be (kept apart so the magics load without sqlglot)."""

FORMATS = ("pandas", "polars", "arrow")

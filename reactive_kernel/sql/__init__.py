"""SQL cells: ``%%sql [OUTPUT_NAME] [--engine NAME]`` on DuckDB or SQLAlchemy."""

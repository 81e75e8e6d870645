# `make run` sets everything up and starts the product; `make test` sets up and
# runs the whole suite (lint, types, tests). Both work on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m reactive_kernel install --sys-prefix
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/jupyter console --kernel reactive

lint: $(STAMP)
	$(VENV)/bin/ruff check reactive_kernel tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict reactive_kernel/analysis.py reactive_kernel/graph.py reactive_kernel/runner.py

pytest: $(STAMP)
	$(VENV)/bin/python -m pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) benchmarks/bench_kernel.py

clean:
	rm -rf $(VENV) build *.egg-info

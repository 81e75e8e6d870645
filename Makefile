# `make run` sets everything up and starts the product; `make test` sets up and
# runs the whole suite (lint, types, tests). Both work on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run console test lint typecheck pytest pytest-public-paths uitest bench clean system-deps ui lab check-analysis test-reliability

# The PostgreSQL server the SQL tests start (Debian's package), installed as
# root when missing; tests start their own throwaway instance.
# Chromium (Debian's) drives the browser tests through Playwright (its executable_path),
# never a browser download.
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then \
		echo "Installing PostgreSQL and Chromium (Debian packages) for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			-o DPkg::Lock::Timeout=300 postgresql chromium; \
	fi

# The notebook UI: CodeMirror 6 (npm) and ui/src bundled by esbuild into
# server/static/build/ (gitignored); rebuilt when ui/ sources or the lockfile change.
UI_SRC   := $(wildcard ui/src/*.js) ui/build.mjs ui/package.json ui/package-lock.json
UI_BUILD := server/static/build/notebook.js

ui: $(UI_BUILD)

ui/node_modules/.package-lock.json: ui/package.json ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch $@

$(UI_BUILD): $(UI_SRC) ui/node_modules/.package-lock.json
	cd ui && node build.mjs

# The JupyterLab / Notebook 7 extension (labextension/, TypeScript): npm packages from
# the registry, compiled by tsc and bundled by JupyterLab's builder against the
# installed jupyterlab's core; `pip install .` puts it in share/jupyter/labextensions.
LAB_SRC   := $(wildcard labextension/src/*.ts) labextension/style/index.css \
	labextension/package.json labextension/package-lock.json labextension/tsconfig.json
LAB_BUILD := labextension/build/reactive-kernel-lab/package.json

lab: $(LAB_BUILD)

labextension/node_modules/.package-lock.json: labextension/package.json labextension/package-lock.json
	cd labextension && npm ci --no-audit --no-fund
	touch $@

$(LAB_BUILD): $(LAB_SRC) labextension/node_modules/.package-lock.json | $(PY)
	$(PY) -m pip install --quiet 'jupyterlab>=4.2,<5'
	cd labextension && rm -rf lib build tsconfig.tsbuildinfo && npx tsc && \
		node node_modules/@jupyterlab/builder/lib/build-labextension.js --core-path \
		"$$($(abspath $(PY)) -c 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))')" .

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY) $(UI_BUILD) $(LAB_BUILD)
	$(PY) -m pip install --quiet -e '.[test]'
	# An editable install leaves out data files: link the built extension where a
	# wheel install puts it (as `jupyter labextension develop` does).
	mkdir -p $(VENV)/share/jupyter/labextensions
	ln -sfn $(abspath labextension/build/reactive-kernel-lab) \
		$(VENV)/share/jupyter/labextensions/reactive-kernel-lab
	$(PY) -m reactive_kernel install --sys-prefix
	touch $(STAMP)

# The server with the web UI, on the embedded DuckDB; prints its URL.
run: $(STAMP) ui
	mkdir -p $(or $(ROOT),notebooks)
	$(VENV)/bin/reactive-server --root-dir $(or $(ROOT),notebooks)

console: $(STAMP)
	$(VENV)/bin/jupyter console --kernel reactive

lint: $(STAMP)
	$(VENV)/bin/ruff check reactive_kernel server tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict reactive_kernel/analysis.py reactive_kernel/ipython_syntax.py \
		reactive_kernel/graph.py reactive_kernel/runner.py reactive_kernel/cascade.py \
		reactive_kernel/state.py reactive_kernel/values.py reactive_kernel/calls.py reactive_kernel/findings.py \
		reactive_kernel/settings.py reactive_kernel/files.py reactive_kernel/views.py \
		reactive_kernel/sql/cells.py reactive_kernel/_compat/__init__.py \
		reactive_kernel/_compat/history.py reactive_kernel/_compat/fdoutput.py \
		reactive_kernel/_compat/formatters.py \
		reactive_kernel/widgets.py server/notebooks.py

pytest: $(STAMP) ui system-deps
	$(VENV)/bin/python -m pytest

# The kernel's tests again with every fast path (reactive_kernel/_compat) off: the
# public paths the kernel falls back to on ipykernel/IPython versions it does not know.
pytest-public-paths: $(STAMP) system-deps
	REACTIVE_KERNEL_FAST_PATHS=0 $(VENV)/bin/python -m pytest tests/test_kernel.py \
		tests/test_history.py tests/test_notebooks_vs_stock.py \
		tests/test_edit_equivalence_kernel.py tests/test_conformance.py tests/test_sql_kernel.py \
		tests/test_widgets_kernel.py

# The web UI's pure modules (the kernel-state transition function, the badge) under
# node's own test runner; the page itself is tested in Chromium (tests/test_ui.py).
uitest: ui/node_modules/.package-lock.json
	cd ui && node --test test/

test: lint typecheck uitest pytest pytest-public-paths

# The fault, load and bad-input suites at full size (make test runs them short): 20
# clients x 1,000 executes on their own kernels, 50 watchers of one kernel, a client
# that stops reading during a cascade of 100,000 outputs, 500 fuzzed examples per
# input; prints the figures the README reports.
test-reliability: $(STAMP) ui
	LOAD=full FUZZ_EXAMPLES=500 $(VENV)/bin/python -m pytest -s tests/test_load.py \
		tests/test_bad_input.py tests/test_reliability.py

# The analysis against CPython's bytecode over the whole standard library, pandas and
# IPython (a sample of the standard library runs in `make test`).
check-analysis: $(STAMP)
	$(PY) benchmarks/check_analysis.py

bench: $(STAMP) ui system-deps
	$(PY) benchmarks/bench_kernel.py
	$(PY) benchmarks/bench_sql.py
	$(PY) benchmarks/bench_server.py
	$(PY) benchmarks/bench_ui.py
	$(PY) benchmarks/bench_lab.py
	$(PY) benchmarks/bench_memory.py
	$(PY) benchmarks/bench_widgets.py
	$(PY) benchmarks/bench_nbclient.py

clean:
	rm -rf $(VENV) build *.egg-info ui/node_modules server/static/build \
		labextension/node_modules labextension/lib labextension/build

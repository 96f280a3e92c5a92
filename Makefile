# The two commands: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
VENVS := .venvs
PY := $(VENVS)/driver/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: test demo venvs artifacts lint typecheck unit integration coverage-erase coverage bench bench-short clean

venvs:
	scripts/bootstrap.sh driver airflow2 airflow3 airflow2-ol airflow3-ol oracle checkov om-schemas mwaa

artifacts: venvs
	$(PY) scripts/build_artifacts.py

# import_graph.py: which wheel modules import which (type-only and function-local imports included); fails on
# an import cycle, naming it.
lint: venvs
	$(VENVS)/driver/bin/ruff check python tests scripts bench devkit
	$(VENVS)/driver/bin/ruff format --check python tests scripts bench devkit
	terraform fmt -check -recursive
	$(PY) scripts/import_graph.py
	$(MAKE) typecheck

# mypy --strict on the wheel (python/pyproject.toml [tool.mypy]), against the Airflow 2 venv's packages.
typecheck: venvs
	cd python && ../$(VENVS)/driver/bin/mypy --python-executable ../$(VENVS)/airflow2/bin/python

# Coverage of the wheel over unit + integration, subprocesses included (.coveragerc; floor and exclusions in
# docs/coverage.md): every Python process that inherits these two variables measures itself.
export COVERAGE_ROOT := $(CURDIR)
export COVERAGE_PROCESS_START := $(CURDIR)/.coveragerc

coverage-erase: venvs
	rm -rf build/coverage && mkdir -p build/coverage

# Per module: statements and branches missed; fails below [report] fail_under.
coverage: venvs
	$(VENVS)/driver/bin/coverage combine --quiet --rcfile=.coveragerc
	$(VENVS)/driver/bin/coverage report --rcfile=.coveragerc

# pytest exits 5 when it collects nothing: that is a failure here, never a pass.
unit: venvs
	cd python && ../$(VENVS)/airflow2/bin/python -m pytest -q -p no:cacheprovider tests

integration: venvs artifacts
	$(VENVS)/driver/bin/python -m pytest -q -p no:cacheprovider tests

test: lint coverage-erase unit integration coverage

demo: venvs artifacts
	$(PY) scripts/demo.py

# The venvs bench/run.py needs: driver (+ matplotlib for the plot), airflow2 (ours), airflow2-ol
# (the OpenLineage provider), official (also the no-lineage baseline), oracle (the emulator).
BENCH_VENVS := driver airflow2 airflow2-ol official oracle

bench:
	scripts/bootstrap.sh $(BENCH_VENVS)
	$(PY) bench/run.py

bench-short:
	scripts/bootstrap.sh $(BENCH_VENVS)
	$(PY) bench/run.py --short

clean:
	rm -rf build dist $(VENVS)

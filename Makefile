# The two commands: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
VENVS := .venvs
PY := $(VENVS)/driver/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: test demo venvs artifacts lint unit integration bench bench-short clean

venvs:
	scripts/bootstrap.sh driver airflow2 airflow3 oracle checkov mwaa

artifacts: venvs
	$(PY) scripts/build_artifacts.py

lint: venvs
	$(VENVS)/driver/bin/ruff check python tests scripts bench
	$(VENVS)/driver/bin/ruff format --check python tests scripts bench
	terraform fmt -check -recursive

# pytest exits 5 when it collects nothing: that is a failure here, never a pass.
unit: venvs
	cd python && ../$(VENVS)/airflow2/bin/python -m pytest -q -p no:cacheprovider tests

integration: venvs artifacts
	$(VENVS)/driver/bin/python -m pytest -q -p no:cacheprovider tests

test: lint unit integration

demo: venvs artifacts
	$(PY) scripts/demo.py

bench:
	scripts/bootstrap.sh driver airflow2 official
	$(PY) bench/run.py

bench-short:
	scripts/bootstrap.sh driver airflow2 official
	$(PY) bench/run.py --short

clean:
	rm -rf build dist $(VENVS)

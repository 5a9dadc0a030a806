# Một cửa Analytics — the two commands: `make run` and `make test`.
# Needs only Python 3.11+; everything else is installed under .venv/ and .local/.

PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)-compiled
UV_VERSION := 0.13.8

.PHONY: venv venv-superset run test lint bench bench-nightly stop lock superset-lock docs clean report bi

$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements-dev.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	# every module compiled once here: uv leaves it to the first import, and where
	# PYTHONDONTWRITEBYTECODE is set (this project's CI machines) no import ever
	# writes it, so every process (Airflow, each dbt run, Great Expectations)
	# compiled its libraries from source again (docs/benchmarks.md, "Bytecode").
	# Its status is ignored: some packages ship Python 2 files they never import
	# (aenum/_py2.py), which do not compile
	$(BIN)/python -m compileall -qq -j 0 $(VENV)/lib src || true
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

# Apache Superset in its own virtualenv: it pins SQLAlchemy 1.4, Airflow cannot share it
SUPERSET_VENV := .venv-superset
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed-$(shell cat superset/requirements.lock | cksum | cut -d' ' -f1)-compiled

$(SUPERSET_STAMP): superset/requirements.lock | $(STAMP)
	test -x $(SUPERSET_VENV)/bin/python || $(BIN)/uv venv -q --python $(PY) $(SUPERSET_VENV)
	$(BIN)/uv pip install -q --python $(SUPERSET_VENV)/bin/python -r superset/requirements.lock
	$(SUPERSET_VENV)/bin/python -m compileall -qq -j 0 $(SUPERSET_VENV)/lib || true
	rm -f $(SUPERSET_VENV)/.installed-*
	touch $(SUPERSET_STAMP)

venv-superset: $(SUPERSET_STAMP)

## run the nightly pipeline once (embedded Postgres unless WAREHOUSE_URL is set)
run: venv
	$(BIN)/python -m motcua run

## the whole suite: lint (ruff, sqlfluff) + pytest against a real Postgres
test: venv venv-superset
	$(BIN)/python -m motcua_dev test

lint: venv
	$(BIN)/python -m motcua_dev lint

## benchmarks: loader COPY vs psql \copy (ROWS=1000000), then full vs nightly
## incremental dbt build for each of DOSSIERS (default 1000000 10000000), the same for
## PROVINCE_DOSSIERS (default 10000000) spread over PROVINCES (default 4) provinces of today's
## map, then the nightly DAG through Airflow vs its steps called directly (bench-nightly)
bench: venv
	$(BIN)/python -m motcua_dev bench --rows $(or $(ROWS),1000000)
	$(BIN)/python -m motcua_dev bench --build --dossiers $(or $(DOSSIERS),1000000 10000000)
	$(BIN)/python -m motcua_dev bench --build --dossiers $(or $(PROVINCE_DOSSIERS),10000000) \
		--provinces $(or $(PROVINCES),4)
	$(BIN)/python -m motcua_dev bench --nightly $(if $(NIGHTLY_DOSSIERS),--dossiers $(NIGHTLY_DOSSIERS))

## the nightly DAG as make run runs it vs the same steps called directly, on the sample
## (NIGHTLY_DOSSIERS=1000000: also a generated inbox, first run and following night)
bench-nightly: venv
	$(BIN)/python -m motcua_dev bench --nightly $(if $(NIGHTLY_DOSSIERS),--dossiers $(NIGHTLY_DOSSIERS))

## the official per-commune table for a period: make report PERIOD=2017-H1 [YEAR=2016]
report: venv
	$(BIN)/python -m motcua.reports official --period $(or $(PERIOD),$(error set PERIOD, e.g. PERIOD=2017-H1)) \
		--out $(or $(OUT),.local/reports/bao-cao_$(PERIOD).xlsx) $(if $(YEAR),--year $(YEAR))
	$(BIN)/python -m motcua.reports transparency --out .local/reports/transparency
	$(BIN)/python -m motcua.reports dashboard --period $(PERIOD) $(if $(YEAR),--year $(YEAR)) \
		--out .local/reports/dashboard.html

## Superset on 127.0.0.1:$(PORT) (default 8088) with the dashboards loaded; Ctrl-C stops it
bi: venv venv-superset
	$(BIN)/python -m motcua bi --port $(or $(PORT),8088)

## stop the embedded PostgreSQL
stop: venv
	$(BIN)/python -m motcua stop

## recompile requirements.lock (runtime) and requirements-dev.lock (+ tools) (needs the package index)
lock: venv
	$(BIN)/uv pip compile --python-version 3.11 requirements.in -o requirements.lock
	$(BIN)/uv pip compile --python-version 3.11 requirements-dev.in -o requirements-dev.lock

## recompile superset/requirements.lock (Superset's own virtualenv)
superset-lock: venv
	$(BIN)/uv pip compile --python-version 3.11 superset/requirements.in -o superset/requirements.lock

## data dictionary: dbt docs generate, then serve on http://127.0.0.1:8081
docs: venv
	$(BIN)/python -m motcua docs --port $(or $(PORT),8081)

clean: stop
	rm -rf .local dbt_project/target dbt_project/logs

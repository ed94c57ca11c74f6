# Replyline: `make demo` and `make test` are all a newcomer needs; both set everything up.
.PHONY: install chromium demo test lint serve worker bench dagster docs db-stop clean

VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
# pip's offline mirrors print a warning per package they do not carry; hide only those lines.
PIP_QUIET := 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true

export DBT_SEND_ANONYMOUS_USAGE_STATS := false

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip $(PIP_QUIET)
	$(BIN)/python -m pip install -q -e '.[dev]' $(PIP_QUIET)
	$(BIN)/python -c "import sender_service, dagster_project"
	$(BIN)/python -m dagster_project.dbt_project  # dbt parse: the manifest Dagster loads
	touch $@

demo: install
	$(BIN)/replyline demo

# The browser tests drive Debian's chromium through Playwright (never `playwright install`).
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

test: install chromium
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy sender_service dagster_project tests bench

serve: install
	$(BIN)/replyline serve

worker: install
	$(BIN)/replyline worker

bench: install
	$(BIN)/python -m bench

# The Dagster UI on the embedded defaults; DAGSTER_HOME under var/ (telemetry off) unless set.
dagster: install
	$(BIN)/python -m dagster_project.dbt_project
	DAGSTER_HOME="$$($(BIN)/python -m dagster_project.instance)" $(BIN)/dagster dev -w workspace.yaml

# The dbt docs site (lineage, columns, tests, exposures) for the published warehouse, read-only.
DOCS_PORT ?= 8081
export PUBLISHED_PATH := from sender_service.settings import load_settings as s; \
	print(s().warehouse_path.resolve())
docs: install
	$(BIN)/python -m dagster_project.dbt_project
	published="$$($(BIN)/python -c "$$PUBLISHED_PATH")" && test -f "$$published" || \
	  { echo "no published warehouse yet: run 'replyline warehouse refresh'"; exit 1; }
	cd dbt && export REPLYLINE_WAREHOUSE_PUBLISHED="$$(../$(BIN)/python -c "$$PUBLISHED_PATH")" && \
	  ../$(BIN)/dbt docs generate --target published --target-path target/docs && \
	  ../$(BIN)/dbt docs serve --target published --target-path target/docs \
	    --port $(DOCS_PORT) --no-browser

db-stop: install
	$(BIN)/replyline db stop

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

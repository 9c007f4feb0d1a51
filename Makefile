# Two commands matter: `make run` and `make test`. Both build .venv from requirements/.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run smoke test lint typecheck imports pytest services migrate superuser

# Every target documents itself with a `## ` comment on its rule line; this lists them.
help: ## list every target with one line each
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z0-9_-]+:[^#]*## / {printf "  make %-18s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)
	@echo "  (HOST and PORT choose where make run listens: make run HOST=0.0.0.0 PORT=8080)"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.installed-base: $(VENV)/bin/python requirements/base.txt requirements/core.txt
	$(VENV)/bin/pip install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.installed: $(VENV)/.installed-base $(wildcard requirements/*.txt)
	$(VENV)/bin/pip install --quiet -r requirements/dev.txt
	touch $@

migrate: $(VENV)/.installed-base ## apply database migrations (make run does this itself)
	$(PY) manage.py migrate --noinput

# The runner prepares var/ and the database, starts web, worker (and the scorer when
# VLM_MODEL_PATH is set), and prints where to go once the web server answers.
run: $(VENV)/.installed-base ## serve the app, by default at http://127.0.0.1:8000 (SQLite, local files, embedded Celery)
	@$(PY) -m curation.local_runner --host $(HOST) --port $(PORT)

superuser: $(VENV)/.installed-base ## create a curator account (staff and superuser)
	$(PY) manage.py createsuperuser

# Needs what `make test` installs; reuses this checkout's .venv in the clone.
smoke: $(VENV)/.installed ## fresh clone of HEAD, `make run` there, four uploads taken to their verdicts
	$(PY) scripts/smoke.py

services: ## start PostgreSQL and Redis for the tests if they are down
	@bash scripts/ensure_services.sh

lint: $(VENV)/.installed ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# What it checks is set once, in pyproject.toml ([tool.mypy] files); pre-commit runs the same.
typecheck: $(VENV)/.installed ## mypy --strict on the apps, deploy, scripts and tests
	$(VENV)/bin/mypy

imports: $(VENV)/.installed ## import-linter contracts
	$(VENV)/bin/lint-imports

pytest: $(VENV)/.installed services ## the test suite, against PostgreSQL, Redis, dynalite, SeaweedFS, Chromium
	@bash scripts/ensure_chromium.sh
	@bash scripts/ensure_exiftool.sh
	$(VENV)/bin/pytest

# arm64-gate (mk/deploy.mk) resolves the ARM64 requirement sets against PyPI.
test: lint typecheck imports pytest arm64-gate ## every check and test (what CI runs, with make smoke)

-include mk/*.mk

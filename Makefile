# Two commands matter: `make run` and `make test`. Both build .venv from requirements/.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck imports pytest services migrate superuser

help:
	@echo "make run     set up .venv (runtime deps) and serve the app at http://$(HOST):$(PORT)"
	@echo "make test    set up .venv (all deps), start PostgreSQL/Redis if needed, run every check"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.installed-base: $(VENV)/bin/python requirements/base.txt requirements/core.txt
	$(VENV)/bin/pip install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.installed: $(VENV)/.installed-base $(wildcard requirements/*.txt)
	$(VENV)/bin/pip install --quiet -r requirements/dev.txt
	touch $@

migrate: $(VENV)/.installed-base
	$(PY) manage.py migrate --noinput

run: $(VENV)/.installed-base migrate
	@mkdir -p var/broker/queue var/broker/processed var/broker/control
	@echo
	@echo "  Parjanya is starting at http://$(HOST):$(PORT)/"
	@echo "  First account (a curator who can also upload):"
	@echo "      $(PY) manage.py createsuperuser"
	@echo "  Upload from a shell once you have a token ($(PY) manage.py drf_create_token USER):"
	@echo "      curl -H 'Authorization: Token TOKEN' -F files=@photo.jpg http://$(HOST):$(PORT)/api/photos/"
	@echo
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho start -f Procfile

superuser: $(VENV)/.installed-base
	$(PY) manage.py createsuperuser

services:
	@bash scripts/ensure_services.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Strict on the pure core (pyproject), django-stubs-checked everywhere else.
typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy curation gallery pipeline gpu_worker deploy

imports: $(VENV)/.installed
	$(VENV)/bin/lint-imports

pytest: $(VENV)/.installed services
	@bash scripts/ensure_chromium.sh
	$(VENV)/bin/pytest

# arm64-gate (mk/deploy.mk) resolves the ARM64 requirement sets against PyPI.
test: lint typecheck imports pytest arm64-gate

-include mk/*.mk

# FinOps maturity portal. `make run` for the demo, `make test` for the suite.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install install-dev run setup test test-fast lint format hooks check stack worker beat bench clean

help:
	@echo "make run    - the portal with demo data on SQLite at http://$(HOST):$(PORT)"
	@echo "make test   - the whole test suite (PostgreSQL/Redis when DATABASE_URL/CELERY_BROKER_URL are set)"
	@echo "make stack  - PostgreSQL + Redis + gunicorn + Celery worker and beat (honcho)"
	@echo "make lint   - ruff, Django checks, missing migrations"
	@echo "make bench  - every benchmark in bench/, one table"

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

# axe-core for the browser suite's accessibility checks, from the npm registry
# (served to the page from this file, never from a CDN); skipped without npm.
AXE_VERSION := 4.14.1

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	@if command -v npm >/dev/null 2>&1; then \
		npm install --no-audit --no-fund --silent --prefix $(VENV)/node axe-core@$(AXE_VERSION); \
	else echo "npm not found: the accessibility checks will be skipped"; fi
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The demo always runs on the embedded default: SQLite, tasks in-process.
EMBEDDED := env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL

setup: install
	$(EMBEDDED) $(PY) manage.py migrate --no-input
	$(EMBEDDED) $(PY) manage.py setup_portal

run: setup
	@$(EMBEDDED) $(PY) manage.py demo_banner --url http://$(HOST):$(PORT)/
	$(EMBEDDED) $(PY) manage.py runserver $(HOST):$(PORT)

# The test settings, whatever DJANGO_SETTINGS_MODULE the shell exports.
test: install-dev
	DJANGO_SETTINGS_MODULE=finops_portal.settings_test $(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djlint --lint templates $(wildcard */templates)
	DJANGO_SETTINGS_MODULE=finops_portal.settings_test $(VENV)/bin/mypy
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

hooks: install-dev
	$(VENV)/bin/pre-commit install

check: lint test

stack: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/finops_portal
stack: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
stack: install
	$(PY) manage.py ensure_database
	$(PY) manage.py migrate --no-input
	$(PY) manage.py setup_portal
	$(PY) manage.py collectstatic --no-input --verbosity 0
	@echo "FinOps maturity portal (gunicorn, Celery worker and beat): http://$(HOST):$(PORT)/"
	$(VENV)/bin/honcho start --port $(PORT)

worker: install
	$(VENV)/bin/celery -A finops_portal worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A finops_portal beat --loglevel=INFO

bench: install-dev
	$(PY) bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles artifacts .pytest_cache .ruff_cache

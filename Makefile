# liangshi (两实) — developer entry points.
#   make demo   build a demo city and serve it on http://127.0.0.1:8000
#   make test   lint + every test on SQLite and (if reachable) PostgreSQL

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV  := .venv
PY    := $(VENV)/bin/python
PIP   := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: help install apt test lint demo bench clean

help:
	@echo "make install  create .venv, install liangshi[dev] and the Debian packages it needs"
	@echo "make test     lint, then run the tests on SQLite and PostgreSQL"
	@echo "make lint     ruff check, ruff format --check, mypy"
	@echo "make demo     build a demo city and serve it on http://127.0.0.1:8000"
	@echo "make bench    run every benchmark in docs/benchmarks.md (SQLite and PostgreSQL)"
	@echo "make clean    remove .venv, demo.db*, .pytest_cache"

install: apt $(STAMP)

# Debian packages (chromium, fonts-wqy-microhei); a no-op when already installed.
apt:
	@scripts/ensure-apt.sh

# The venv. If python3 -m venv fails (Debian without python3-venv), install
# python3-venv and retry from a clean directory.
$(PIP):
	@if ! python3 -m venv $(VENV); then \
		echo "python3 -m venv failed; installing python3-venv"; \
		rm -rf $(VENV); \
		scripts/ensure-apt.sh python3-venv; \
		python3 -m venv $(VENV); \
	fi

# Re-install only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(PIP)
	$(PIP) install -q -e '.[dev]'
	@touch $(STAMP)

test: install
	scripts/run-tests.sh

lint:
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy

demo: install
	scripts/demo.sh

bench: install
	$(PY) scripts/bench_lookup.py --db sqlite --persons 100000
	$(PY) scripts/bench_lookup.py --db postgresql --persons 100000
	$(PY) scripts/bench_import.py --db sqlite --persons 100000
	$(PY) scripts/bench_import.py --db postgresql --persons 100000
	$(PY) scripts/bench_synth.py --persons 1000000
	$(PY) scripts/bench_address.py
	$(PY) scripts/bench_lookup.py --db sqlite --persons 1000000
	$(PY) scripts/bench_lookup.py --db postgresql --persons 1000000
	$(PY) scripts/bench_venues.py --db sqlite --stays 50000
	$(PY) scripts/bench_venues.py --db postgresql --stays 50000

clean:
	rm -rf $(VENV) .pytest_cache
	rm -f demo.db*

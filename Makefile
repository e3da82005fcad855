# liangshi (两实) — developer entry points.
#   make demo   serve the demo city on http://127.0.0.1:8000 (built on the first run, kept afterwards)
#   make demo-rebuild   delete the demo database and build it afresh
#   make test   lint + every test on SQLite and (if reachable) PostgreSQL

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV  := .venv
PY    := $(VENV)/bin/python
PIP   := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: help install apt assets messages test lint demo demo-rebuild bench clean

help:
	@echo "make install  create .venv, install liangshi[dev] and the Debian packages it needs"
	@echo "make test     lint, then run the tests on SQLite and PostgreSQL"
	@echo "make lint     ruff check, ruff format --check, mypy, import-linter layer contracts"
	@echo "make demo     serve the demo city on http://127.0.0.1:8000 (built on the first run, kept afterwards)"
	@echo "make demo-rebuild  delete the demo database (./liangshi.db), build it afresh and serve it"
	@echo "make bench    run every benchmark in docs/benchmarks.md (SQLite and PostgreSQL)"
	@echo "make assets   vendor htmx, ECharts, Leaflet and Swagger UI from the npm registry into the web static files"
	@echo "make messages extract the web pages' messages and update the .po catalogues"
	@echo "make clean    remove .venv, liangshi.db* (the demo), .pytest_cache"

install: apt $(STAMP) assets

# Front-end libraries pinned in package.json/package-lock.json, copied into the package's static files (not
# committed; nothing is fetched from the internet at run time).
VENDOR := src/liangshi/web/static/vendor
assets: $(VENDOR)/.stamp

$(VENDOR)/.stamp: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || scripts/ensure-apt.sh npm
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/
	rm -rf $(VENDOR)/images && cp -r node_modules/leaflet/dist/images $(VENDOR)/images
	mkdir -p $(VENDOR)/swagger-ui
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/oauth2-redirect.js $(VENDOR)/swagger-ui/
	@touch $@

# Catalogues are compiled in memory from the .po files when the app starts (no .mo to build).
messages:
	mkdir -p build
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o build/messages.pot .
	for lang in zh_CN en; do \
		if [ -f src/liangshi/web/locale/$$lang/LC_MESSAGES/messages.po ]; then \
			$(VENV)/bin/pybabel update --no-fuzzy-matching -i build/messages.pot -d src/liangshi/web/locale -l $$lang; \
		else \
			$(VENV)/bin/pybabel init -i build/messages.pot -d src/liangshi/web/locale -l $$lang; \
		fi; \
	done

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
	$(VENV)/bin/ruff check src tests scripts
	$(VENV)/bin/ruff format --check src tests scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

demo: install
	scripts/demo.sh

demo-rebuild: install
	scripts/demo.sh --rebuild

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
	$(PY) scripts/bench_search.py --db sqlite --persons 100000
	$(PY) scripts/bench_search.py --db postgresql --persons 100000
	$(PY) scripts/bench_department_batch.py --db sqlite --persons 2000
	$(PY) scripts/bench_department_batch.py --db postgresql --persons 2000
	$(PY) scripts/bench_linkage.py city --city bench-out/lk-city
	$(PY) scripts/bench_linkage.py febrl
	$(PY) scripts/bench_linkage.py incremental --master 1000000 --new 10000 --cache bench-out/lk-bench
	$(PY) scripts/bench_mpi.py --db sqlite --persons 100000 --records 10000
	$(PY) scripts/bench_mpi.py --db postgresql --persons 100000 --records 10000
	$(PY) scripts/bench_web.py --db sqlite --persons 1000000 --runs 5 --grids 50
	$(PY) scripts/bench_web.py --db postgresql --persons 1000000 --runs 5 --grids 50

clean:
	rm -rf $(VENV) .pytest_cache node_modules src/liangshi/web/static/vendor
	rm -f liangshi.db liangshi.db-wal liangshi.db-shm

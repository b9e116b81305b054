# Weltoffene Kommune – Programm-Monitor
#   make run   set everything up, build the demo database if missing, serve http://localhost:8501
#   make test  set everything up (incl. Chromium for browser tests) and run the whole test suite

SHELL := /bin/bash
# The real interpreter, resolved once: a pyenv shim as UV_PYTHON would make every `uv` call see a
# "different" Python and recreate .venv.
ifndef PYTHON
PYTHON := $(shell python3.11 -c 'import sys; print(sys.executable)' 2>/dev/null \
            || python3 -c 'import sys; print(sys.executable)')
endif
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
VENV := .venv
DB ?= data/monitor.duckdb
DEMO := data/demo
CHROMIUM ?= /usr/bin/chromium
# Unicode font of the PDF brief (dashboard/report/pdf.py), from Debian's fonts-dejavu-core
DEJAVU := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
# WeasyPrint (tagged PDFs, dashboard/report/pdf.py) lays out text with Pango
PANGO := libpango-1.0-0 libpangoft2-1.0-0
export UV_PYTHON := $(PYTHON)
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Byte-compile at install time: with PYTHONDONTWRITEBYTECODE every new process (the app after a
# start, each ETL run) would otherwise compile its imports again (seconds on a cold start).
export UV_COMPILE_BYTECODE := 1
# Commands run in the synced environment directly: `uv run` would check (and maybe re-sync) it
# on every call.
RUN := $(VENV)/bin/python

.PHONY: help setup run data rebuild demo geo docs test test-fast browser lint bench clean

help:
	@grep -E '^#   make' Makefile | sed 's/^#   //'

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "FEHLER: $(PYTHON) fehlt. Bitte Python 3.11 installieren."; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock Makefile
	$(UV) sync --frozen --all-groups --compile-bytecode
	@touch $@

# Our own modules, compiled too (PYTHONDONTWRITEBYTECODE stops Python from caching them itself);
# a source newer than its .pyc is compiled again, the rest is skipped, so a second call is quick.
$(VENV)/.compiled: $(VENV)/.synced $(wildcard dashboard/*.py dashboard/*/*.py etl/*.py etl/*/*.py tools/*.py pages/*.py)
	$(RUN) -m compileall -q dashboard etl tools pages
	@touch $@

setup: $(VENV)/.compiled

$(DB): | setup
	$(RUN) -m etl build --input $(DEMO) --output $(DB)

data: $(DB)

rebuild: setup
	$(RUN) -m etl build --input $(DEMO) --output $(DB)

run: setup data
	@$(RUN) -m dashboard.users demo || true
	@$(RUN) -m dashboard.store demo || true
	@echo "Dashboard: http://localhost:8501  (Beenden mit Strg+C)"
	$(RUN) -m dashboard.serve dashboard/server.py --server.port 8501

demo: setup
	$(RUN) -m tools.demo --out $(DEMO)

geo: setup
	$(RUN) -m tools.geo.build_reference

docs: setup
	$(RUN) -m etl docs

browser:
	@if [ -x "$(CHROMIUM)" ] && [ -f "$(DEJAVU)" ] && { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } | grep -q libpangoft2-1.0; then echo "Chromium: $(CHROMIUM)"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "Installiere Chromium und Schriften (Debian) …"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core fonts-liberation $(PANGO) >/dev/null; \
	elif [ -x "$(CHROMIUM)" ]; then echo "Hinweis: Schrift DejaVu oder Pango fehlt (Pakete fonts-dejavu-core $(PANGO)); bitte als Administrator installieren, sonst fehlen Schrift oder PDF-Bericht."; \
	else echo "FEHLER: Chromium fehlt ($(CHROMIUM)). Bitte als Administrator 'apt-get install chromium' ausführen oder CHROMIUM=/pfad/zu/chromium setzen."; exit 1; fi

test: setup browser
	$(VENV)/bin/ruff check .
	CHROMIUM=$(CHROMIUM) $(VENV)/bin/pytest -n 2 --dist loadfile

test-fast: setup
	$(VENV)/bin/pytest -m "not e2e"

lint: setup
	$(VENV)/bin/ruff check .

bench: setup browser
	$(RUN) bench/etl.py
	$(RUN) bench/pages.py
	$(RUN) bench/peers.py
	$(RUN) bench/report.py

clean:
	rm -rf $(VENV) $(TOOLS) $(DB) .pytest_cache test-results

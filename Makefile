# Weltoffene Kommune – Programm-Monitor
#   make run   set everything up, build the demo database if missing, serve http://localhost:8501
#   make test  set everything up (incl. Chromium for browser tests) and run the whole test suite

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
VENV := .venv
DB ?= data/monitor.duckdb
DEMO := data/demo
CHROMIUM ?= /usr/bin/chromium
# Unicode font of the PDF brief (dashboard/report/pdf.py), from Debian's fonts-dejavu-core
DEJAVU := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
export UV_PYTHON := $(PYTHON)
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help setup run data rebuild demo geo docs test test-fast browser lint bench clean

help:
	@grep -E '^#   make' Makefile | sed 's/^#   //'

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "FEHLER: $(PYTHON) fehlt. Bitte Python 3.11 installieren."; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups
	@touch $@

setup: $(VENV)/.synced

$(DB): | setup
	$(UV) run python -m etl build --input $(DEMO) --output $(DB)

data: $(DB)

rebuild: setup
	$(UV) run python -m etl build --input $(DEMO) --output $(DB)

run: setup data
	@$(UV) run python -m dashboard.users demo || true
	@echo "Dashboard: http://localhost:8501  (Beenden mit Strg+C)"
	$(UV) run streamlit run dashboard/app.py --server.port 8501

demo: setup
	$(UV) run python -m etl.demo --out $(DEMO)

geo: setup
	$(UV) run python -m etl.geo.build_reference

docs: setup
	$(UV) run python -m etl docs

browser:
	@if [ -x "$(CHROMIUM)" ] && [ -f "$(DEJAVU)" ]; then echo "Chromium: $(CHROMIUM)"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "Installiere Chromium und Schriften (Debian) …"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core fonts-liberation >/dev/null; \
	elif [ -x "$(CHROMIUM)" ]; then echo "Hinweis: Schrift DejaVu fehlt (Paket fonts-dejavu-core); der PDF-Bericht nutzt eine Ersatzschrift."; \
	else echo "FEHLER: Chromium fehlt ($(CHROMIUM)). Bitte als Administrator 'apt-get install chromium' ausführen oder CHROMIUM=/pfad/zu/chromium setzen."; exit 1; fi

test: setup browser
	$(UV) run ruff check .
	CHROMIUM=$(CHROMIUM) $(UV) run pytest -n 2 --dist loadfile

test-fast: setup
	$(UV) run pytest -m "not e2e"

lint: setup
	$(UV) run ruff check .

bench: setup browser
	$(UV) run python bench/etl.py
	$(UV) run python bench/pages.py
	$(UV) run python bench/peers.py
	$(UV) run python bench/report.py

clean:
	rm -rf $(VENV) $(TOOLS) $(DB) .pytest_cache test-results

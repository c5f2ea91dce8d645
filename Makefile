# Developer entry points. Every recipe is plain POSIX sh.
#
#   make install   virtualenv + Python deps, npm deps, DSFR assets in portal/static/dsfr
#   make run       install, migrate, load demo data if the database is empty, serve on 127.0.0.1:5000
#   make test      install, then pytest (extra arguments: make test PYTEST_ARGS='-k etablissement -x')
#   make test-fast the same without the browser journeys, stopping at the first failure
#   make bench     benchmarks/run.py -> bench-results.json (make bench BENCH_ARGS='--quick --only P1,P3a')
#   make security  the DAST suite: sqlmap, wapiti, forced browsing on a live server (pytest -m dast)
#   make test-lowest  the suite (browser journeys aside) with the lowest versions setup.cfg admits
#   make clean     generated files (keeps .venv, node_modules and instance/)
#   make distclean clean + .venv + node_modules

SHELL := /bin/sh
.DEFAULT_GOAL := help

PYTHON ?= python3
NPM ?= npm
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PYTEST_ARGS ?=
BENCH_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 5000

# Environment of `make run`: never the Werkzeug debugger, development defaults.
RUN_ENV := FLASK_DEBUG=0 PORTAL_ENV=development

VENV_STAMP := $(VENV)/.installed
PY_DEPS := $(wildcard setup.cfg setup.py pyproject.toml)

NODE_STAMP := node_modules/.installed
NODE_DEPS := package.json $(wildcard package-lock.json .dsfr.yml)

DSFR_SRC := node_modules/@gouvfr/dsfr
DSFR_DIST := $(DSFR_SRC)/dist
DSFR_DEST := portal/static/dsfr
DSFR_STAMP := $(DSFR_DEST)/.installed

.PHONY: help install venv .venv assets run test test-fast test-lowest lowest-venv bench security clean distclean

help:
	@echo "Cibles : install, run, test, bench, security, clean, distclean"
	@echo "  make run       -> http://$(HOST):$(PORT)/ (données de démonstration si la base est vide)"
	@echo "  make test PYTEST_ARGS='-x -k public'"

install: $(VENV_STAMP) $(DSFR_STAMP)

venv .venv: $(VENV_STAMP)

assets: $(DSFR_STAMP)

# --- Python ---------------------------------------------------------------
$(VENV_STAMP): $(PY_DEPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

# --- npm (DSFR, vnu-jar) --------------------------------------------------
# @gouvfr/dsfr refuses to install unless .dsfr.yml records that the project
# accepted its terms of use (see the README, DSFR section).
$(NODE_STAMP): $(NODE_DEPS)
	@command -v $(NPM) >/dev/null 2>&1 || { echo "npm est introuvable : installez Node.js (>= 20.19) et npm." >&2; exit 1; }
	@test -f .dsfr.yml || { echo ".dsfr.yml manquant : les modalités d'utilisation du DSFR doivent être acceptées (voir README, section DSFR)." >&2; exit 1; }
	if [ -f package-lock.json ]; then \
	  $(NPM) ci --no-audit --no-fund; \
	else \
	  $(NPM) install --no-audit --no-fund; \
	fi
	touch $@

# Copy only what the pages load; keep the layout of dist/ so that the relative
# url(...) in the CSS keep working: dsfr.min.css -> fonts/, icons/;
# utility/icons/icons.min.css -> ../../icons/.
$(DSFR_STAMP): $(NODE_STAMP)
	rm -rf $(DSFR_DEST)
	mkdir -p $(DSFR_DEST)/utility/icons
	cp $(DSFR_DIST)/dsfr.min.css $(DSFR_DIST)/dsfr.module.min.js $(DSFR_DIST)/dsfr.nomodule.min.js $(DSFR_DEST)/
	cp $(DSFR_DIST)/utility/icons/icons.min.css $(DSFR_DEST)/utility/icons/
	for d in fonts icons favicon artwork; do \
	  if [ -d $(DSFR_DIST)/$$d ]; then cp -R $(DSFR_DIST)/$$d $(DSFR_DEST)/$$d; fi; \
	done
	cp $(DSFR_SRC)/LICENSE.md $(DSFR_DEST)/LICENSE.md
	touch $@

# --- Everyday targets -------------------------------------------------------
run: install
	$(RUN_ENV) $(FLASK) db upgrade
	$(RUN_ENV) $(FLASK) demo-data --if-empty --adresse http://$(HOST):$(PORT)
	$(RUN_ENV) $(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The inner loop: the suite without the browser journeys, stopping at the first failure
# (make test-fast PYTEST_ARGS='tests/public'). CI still runs everything.
test-fast: install
	$(BIN)/python -m pytest --ignore=tests/browser -x $(PYTEST_ARGS)

# A second virtualenv holding the lowest version of each dependency that setup.cfg admits
# (pip constraints that .ci/lowest_versions.py reads off setup.cfg): the lower bounds are tested.
LOWEST_VENV := .venv-lowest

lowest-venv:
	test -x $(LOWEST_VENV)/bin/python || $(PYTHON) -m venv $(LOWEST_VENV)
	$(PYTHON) .ci/lowest_versions.py > $(LOWEST_VENV)/constraints.txt
	$(LOWEST_VENV)/bin/python -m pip install --quiet -c $(LOWEST_VENV)/constraints.txt -e '.[dev]'

test-lowest: $(DSFR_STAMP) lowest-venv
	$(LOWEST_VENV)/bin/python -m pytest --ignore=tests/browser $(PYTEST_ARGS)

# Load comes from wrk (Debian package, installed when missing and root) or, failing that,
# from locust (PyPI, into the virtualenv).
bench: install
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }; }; } || true
	@command -v wrk >/dev/null 2>&1 || test -x $(BIN)/locust || $(BIN)/python -m pip install --quiet locust
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# sqlmap and wapiti come from Debian (installed when missing and root); RUN_DAST=1 lets the
# dast tests run (a plain `make test` skips them).
security: install
	@{ command -v sqlmap && command -v wapiti; } >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlmap wapiti; } || \
	  echo "sqlmap / wapiti absents et non installables (root requis)" >&2
	RUN_DAST=1 $(BIN)/python -m pytest -m dast tests/security $(PYTEST_ARGS)

clean:
	rm -rf $(DSFR_DEST) .pytest_cache htmlcov .coverage artifacts bench-results.json
	rm -rf *.egg-info build dist
	find . -path ./$(VENV) -prune -o -path ./$(LOWEST_VENV) -prune -o -path ./node_modules -prune -o \
	  \( -name __pycache__ -type d -exec rm -rf {} + \) -o \( -name '*.pyc' -type f -exec rm -f {} + \)

distclean: clean
	rm -rf $(VENV) $(LOWEST_VENV) node_modules

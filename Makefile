# Two commands matter: `make serve` (build stale figures, serve the essay with live
# reload) and `make test` (the whole suite, browser tests included).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
export NO_MKDOCS_2_WARNING := 1
export PYTHONUNBUFFERED := 1

.PHONY: serve build figures test lint chromium bench clean clean-figures

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch is pinned (==2.13.0) in pyproject: any other version pulls a multi-GB CUDA build.
	$(PIP) install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

serve: $(STAMP)
	$(PY) -m symbiote_core.figures build || echo "Some figures failed: their pages show the error."
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000 --livereload

build: $(STAMP)
	$(PY) -m symbiote_core.figures build
	$(VENV)/bin/mkdocs build --strict

figures: $(STAMP)
	$(PY) -m symbiote_core.figures build $(if $(FORCE),--force) $(FIGURES)

chromium:
	@command -v /usr/bin/chromium >/dev/null || { \
	  echo "Installing Debian chromium for the browser tests (about a minute)..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) chromium
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m symbiote_core.figures build
	$(PY) bench/bench_build.py
	$(PY) bench/bench_seeds_modadd.py
	$(PY) bench/bench_seeds_induction.py
	bash bench/run.sh

# `clean` keeps the figure cache: every entry is verified on read (a corrupt one is
# reported and rebuilt), and recomputing all figures takes minutes.
clean:
	rm -rf site .site.building-* .site.old-* test-artifacts .cache/mkdocs-jupyter .cache/ipython .cache/vendor

# Drop every cached figure too (each is recomputed by the next build).
clean-figures: clean
	$(PY) -m symbiote_core.figures clean

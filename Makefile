# Two commands matter: `make serve` (build stale figures, serve the essay with live
# reload) and `make test` (the whole suite, browser tests included; CI runs it).
# `make test-fast` is the inner loop: no essay build, no browser.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HASH := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
# Two installs: what building the essay needs (`[docs]`), and that plus the test and
# Hugging Face tools (`[test]`, 30 s more on a fresh venv), for `make test` and `bench`.
STAMP := $(VENV)/.installed-docs-$(HASH)
TEST_STAMP := $(VENV)/.installed-test-$(HASH)
# --no-compile: pip would byte-compile every installed file (torch, transformers: half
# the install's CPU time); Python compiles the modules actually imported, on first use.
INSTALL := $(PIP) install --quiet --no-compile
export NO_MKDOCS_2_WARNING := 1
export PYTHONUNBUFFERED := 1
# Python compiles what it imports once and keeps the bytecode (see --no-compile below):
# with PYTHONDONTWRITEBYTECODE set, every process (each figure worker, each mkdocs
# build in the tests) compiled every module again, half the CPU of a small site's build.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: serve build figures test test-fast lint chromium bench clean clean-figures

# pip is upgraded once, when the venv is made (2 s): the one bundled with Python warns
# about every unreachable index location, and a current pip resolves the same pins.
# torch is pinned (==2.13.0) in pyproject: any other version pulls a multi-GB CUDA build.
VENV_NEW := test -x $(PY) || { python3 -m venv $(VENV) && $(PIP) install --quiet --upgrade pip; }

$(STAMP): pyproject.toml
	@$(VENV_NEW)
	$(INSTALL) -e '.[docs]'
	@rm -f $(VENV)/.installed-docs-*
	@touch $@

# [test] includes [docs], so it stands for both stamps.
$(TEST_STAMP): pyproject.toml
	@$(VENV_NEW)
	$(INSTALL) -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@ $(STAMP)

serve: $(STAMP)
	$(PY) -m symbiote_core.figures build || echo "Some figures failed: their pages show the error."
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000 --livereload

# The PDF of the whole essay is printed from the built site by Debian chromium.
build: $(STAMP) chromium
	$(PY) -m symbiote_core.figures build
	$(VENV)/bin/mkdocs build --strict
	$(PY) -m symbiote_core.figures.site.pdf site

figures: $(STAMP)
	$(PY) -m symbiote_core.figures build $(if $(FORCE),--force) $(FIGURES)

chromium:
	@command -v /usr/bin/chromium >/dev/null || { \
	  echo "Installing Debian chromium for the browser tests (about a minute)..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Two runs, the same tests as one: library, engine and site on two processes (their
# tests are independent and spread one at a time, except that the tests sharing a
# module-scoped fixture stay on one process: tests/conftest.py groups them), then the
# essay layer, also on two: the first process to need the essay builds it once and both
# read it (tests/essay/conftest.py); its browser sweeps wait on pages more than they
# compute, so they are spread one test at a time.
XDIST := -n 2 --dist loadgroup
test: $(TEST_STAMP) chromium
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -m "not essay" $(XDIST)
	$(PY) -m pytest -m essay -n 2 --dist load

# Library, engine and site (on the small probe site and the fake project), without the
# essay's build, the browser and the ten tests marked slow (three train the essay's
# host recipes on its seeds; the rest serve a site live, build one from scratch twice,
# or record releases and rebuild their sites): about a fifth of the CPU. `make test`
# runs them all.
test-fast: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -m "not essay and not browser and not slow" $(XDIST)

# bench_build and bench_scaling time generated essays (`bench/genproject.py`), so they
# need no essay figure; `bench/bench_build.py --essay` times the essay itself.
bench: $(TEST_STAMP)
	$(PY) bench/bench_build.py
	$(PY) bench/bench_scaling.py
	$(PY) bench/bench_seeds_modadd.py
	$(PY) bench/bench_seeds_induction.py
	$(PY) bench/bench_bytelm.py
	$(PY) bench/bench_gemm_routing.py
	$(PY) bench/bench_worker_malloc.py
	if [ -d site ]; then $(PY) bench/bench_page_timings.py; else echo "bench_page_timings: no site/ (make build first)"; fi
	bash bench/run.sh

# `clean` keeps the figure cache: every entry is verified on read (a corrupt one is
# reported and rebuilt), and recomputing all figures takes minutes.
clean:
	rm -rf site .site.building-* .site.old-* test-artifacts .cache/notebooks .cache/mkdocs-jupyter .cache/ipython .cache/vendor

# Drop every cached figure too (each is recomputed by the next build).
clean-figures: clean
	$(PY) -m symbiote_core.figures clean

# Two commands do everything on a fresh machine:
#   make demo   -- set up, then train the report's network on XOR (examples/xor.py)
#   make test   -- set up, then run the test suite
# Set-up: a virtualenv in .venv with the package and its [dev] extra, and Graphviz's
# `dot`; for the tests also the [torch] and [dask] extras, Chromium with its driver for
# the browser tests, and pdflatex with TikZ for the TikZ export's test (system packages
# installed with apt-get when missing and we are root; otherwise we say how, and those
# tests are skipped).

VENV   ?= .venv
# The [torch] extra (tinygrad_hw.interop). Pinned first so that pip takes the CPU build at
# hand rather than the newest (CUDA) release; `make test TORCH=` leaves PyTorch out.
TORCH  ?= torch==2.13.0
PYTHON ?= python3
# The test suite runs on every core (pytest-xdist); `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= auto
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup system test-system torch dask test demo report lint kernels bench docs clean

setup: $(STAMP) system

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian packages by the command each gives: installed with apt-get when missing and we
# are root; otherwise one line says how, and the tests that need them skip (or fail
# under CI=true).
define system_packages
	@missing=""; \
	for pair in $(1); do command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing$$missing with apt-get ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "Missing:$$missing. Install with 'sudo apt-get install$$missing'; the tests that need them are skipped until then (and fail under CI=true)."; \
	fi
endef

system:
	$(call system_packages,dot:graphviz)

test-system:
	$(call system_packages,dot:graphviz chromium:chromium chromedriver:chromium-driver pdflatex:texlive-pictures)

torch: $(STAMP)
	@if [ -z "$(TORCH)" ] || $(PY) -c "import torch" 2>/dev/null; then :; \
	elif echo "Installing PyTorch ($(TORCH)) for the [torch] extra ..." && $(PY) -m pip install --quiet '$(TORCH)' \
		&& $(PY) -m pip install --quiet -e '.[torch]'; then :; \
	else echo "PyTorch ($(TORCH)) could not be installed: the interop tests are skipped until then (pip install -e '.[torch]')."; fi

# The [dask] extra (tinygrad-hw grade --scheduler); `make test DASK=` leaves it out.
DASK ?= dask[distributed]
dask: $(STAMP)
	@if [ -z "$(DASK)" ] || $(PY) -c "import dask.distributed" 2>/dev/null; then :; \
	elif echo "Installing Dask for the [dask] extra ..." && $(PY) -m pip install --quiet -e '.[dask]'; then :; \
	else echo "Dask could not be installed: the Dask tests are skipped until then (pip install -e '.[dask]')."; fi

test: $(STAMP) test-system torch dask
	$(PY) -m pytest -q -n $(TEST_WORKERS)

demo: setup
	$(PY) examples/xor.py

report: setup
	$(VENV)/bin/tinygrad-hw report --out report

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_replay.py
	$(PY) benchmarks/bench_scale.py
	$(PY) benchmarks/bench_moons.py
	$(PY) benchmarks/bench_watch.py

# tinygrad_hw/kernels.py is generated from the rules in tinygrad_hw/ops.py (a test fails when it is stale)
kernels: setup
	$(PY) -c "import sys; from tinygrad_hw.generate import main; sys.exit(main())"

docs: setup
	$(PY) docs/make_images.py
	$(VENV)/bin/jupyter-execute --inplace examples/tour.ipynb

clean:
	rm -rf $(VENV) out report .pytest_cache .hypothesis .ruff_cache *.egg-info

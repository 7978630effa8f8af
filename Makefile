# Two commands do everything on a fresh machine:
#   make demo   -- set up, then train the report's network on XOR (examples/xor.py)
#   make test   -- set up, then run the test suite
# Set-up: a virtualenv in .venv with the package and its [dev] extra, and Graphviz's
# `dot` (installed with apt-get when missing and we are root; otherwise we say how).

VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup graphviz test demo report lint bench docs clean

setup: $(STAMP) graphviz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

graphviz:
	@if command -v dot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Graphviz (dot) with apt-get ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	else \
		echo "Graphviz's dot is missing: install it with 'sudo apt-get install graphviz' (macOS: 'brew install graphviz'); tests that render SVG are skipped until then."; \
	fi

test: setup
	$(PY) -m pytest -q

demo: setup
	$(PY) examples/xor.py

report: setup
	$(VENV)/bin/tinygrad-hw report --out report

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_replay.py
	$(PY) benchmarks/bench_scale.py

docs: setup
	$(PY) -c "from tinygrad_hw.kernels import kernels_markdown; print(kernels_markdown())" > docs/kernels.md

clean:
	rm -rf $(VENV) out report .pytest_cache .hypothesis .ruff_cache *.egg-info

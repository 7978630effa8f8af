# Two commands do everything on a fresh machine:
#   make demo   -- set up, then train the report's network on XOR (examples/xor.py)
#   make test   -- set up, then run the test suite
# Set-up: a virtualenv in .venv with the package and its [dev] extra; Graphviz's `dot`,
# and Chromium with its driver for the browser tests (installed with apt-get when
# missing and we are root; otherwise we say how, and those tests are skipped).

VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup system test demo report lint bench docs clean

setup: $(STAMP) system

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

system:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing$$missing with apt-get ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "Missing:$$missing. Install with 'sudo apt-get install$$missing'; the tests that need them are skipped until then (and fail under CI=true)."; \
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
	$(PY) docs/make_images.py

clean:
	rm -rf $(VENV) out report .pytest_cache .hypothesis .ruff_cache *.egg-info

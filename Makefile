# Set-up is part of every target: a fresh machine needs only `make run` or `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench lessons clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch==2.13.0 is a local CPU build here; any other version pulls GBs of CUDA packages.
# A torch that is already present (a GPU build, say) is kept.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/nnplay $(ARGS)

# Two workers, each taking whole test files (a file's shared fixtures, such as a Ray cluster, start once):
# the suite is mostly waiting on engine processes, so two run side by side in about half the time.
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(PY) -m ruff check engine tui presets tests bench

# The `bench` extra (lightning) only here: the tests never need it.
bench: $(STAMP)
	$(PY) -c "import lightning" 2>/dev/null || $(PY) -m pip install -q -e ".[dev,bench]"
	$(PY) bench/run.py

# Every lesson and its variation on 3 data seeds x 3 training seeds; writes the table of outcomes.
lessons: $(STAMP)
	$(PY) -m nnplay.engine.lessons --out docs/lessons.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Two commands for a newcomer; each sets itself up from nothing (a .venv with the CPU torch wheel
# and the package with its test extras) and is quick when run again.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.onenn-installed
# The CPU wheel of torch lies on this machine's disk; a bare `torch` requirement would pull a
# multi-GB CUDA build, so torch is pinned here (pyproject.toml keeps a normal range for users).
TORCH ?= torch==2.13.0
OUT ?= report
#: verify's worker processes (one thread each): one per CPU by default; the report is the same for any value.
JOBS ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: verify test lint clean help

help:
	@echo "make verify   run every claim ($(JOBS) processes), print the verdict table, write $(OUT)/report.{json,md}"
	@echo "make test     run the pytest suite (pytest-xdist, one process per CPU, one thread each)"
	@echo "make lint     ruff and mypy"

$(STAMP): pyproject.toml verify/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(PY) -m pip install --quiet --disable-pip-version-check -c verify/constraints.txt -e '.[test]'
	touch $(STAMP)

verify: $(STAMP)
	$(PY) -m verify --out $(OUT) --jobs $(JOBS)

test: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n auto

lint: $(STAMP)
	$(VENV)/bin/ruff check model properties verify tests
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis

# Two set-up commands: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck contracts unit run console bench soak clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Cần Python 3.11 ($(PYTHON)) / Python 3.11 is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m bot demo --out out

run: $(STAMP)
	$(PY) -m bot run

console: $(STAMP)
	$(PY) -m bot console

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

contracts: $(STAMP)
	$(VENV)/bin/lint-imports

unit: $(STAMP)
	$(VENV)/bin/pytest -q

test: lint typecheck contracts unit

# The long crash soak: 1,000 reports while the bot is SIGKILLed 15 times (make test runs a
# short one). Prints its figures; docs/RELIABILITY.md has the latest.
soak: $(STAMP)
	SOAK_REPORTS=1000 SOAK_KILLS=15 $(VENV)/bin/pytest -q -s -m soak

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) out .mypy_cache .pytest_cache .ruff_cache

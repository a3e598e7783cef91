# churnlab: `make help` lists the targets.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install report test lint format bench lab clean

help: ## Show this help
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install churnlab with its dev tools

report: $(STAMP) ## Run every notebook on the bundled data and export HTML to reports/
	$(BIN)/churnlab report --jobs 2

test: $(STAMP) ## Run the whole test suite (Spark and browser tests included)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## Check formatting, lint (ruff, notebooks included) and the import layers
	$(BIN)/ruff check churnlab tests benchmarks notebooks
	$(BIN)/ruff format --check churnlab tests benchmarks notebooks
	$(BIN)/lint-imports

format: $(STAMP) ## Reformat the code with ruff
	$(BIN)/ruff format churnlab tests benchmarks notebooks
	$(BIN)/ruff check --fix churnlab tests benchmarks notebooks

bench: $(STAMP) ## Run the side-by-side benchmarks (slow; results go to BENCHMARKS.md by hand)
	$(BIN)/python benchmarks/bench_rfm.py
	$(BIN)/python benchmarks/bench_models.py
	$(BIN)/python benchmarks/bench_features.py
	$(BIN)/python benchmarks/bench_startup.py

lab: $(STAMP) ## Open JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks/

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

# The two commands of the README: `make demo` and `make test`. Everything else is in
# pyproject.toml (Python) and package.json (JavaScript).
VENV ?= .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.labwidget-installed

.PHONY: demo test

## Install everything, then open JupyterLab on the quick-start notebook (embedded SQLite store).
demo: $(INSTALLED)
	npm run build
	$(VENV)/bin/jupyter lab --notebook-dir=examples quickstart.ipynb

## Install everything, then run every check and test: lint, types, JS and Python, browser.
test: $(INSTALLED)
	npm run build
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	npm run typecheck
	npm test
	$(PYTHON) -m pytest

$(INSTALLED): pyproject.toml package.json package-lock.json
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	npm ci
	$(PYTHON) -m pip install --quiet -e ".[dev]"
	touch $@

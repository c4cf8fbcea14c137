# Set-up and everyday commands. Needs only Python >= 3.11 and access to the package index.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench docs wheel clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,docs]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/edxreview demo --out demo-output --force

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "open docs/_build/html/index.html"

wheel: $(STAMP)
	tools/check_wheel.sh $(BIN)/python

bench: $(STAMP)
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/emg.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache docs/_build dist build

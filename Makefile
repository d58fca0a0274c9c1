# flasharb — `make` lists the targets. Everything installs from package registries only.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.flasharb-stamp
NODE_STAMP := node_modules/.flasharb-stamp
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup demo test test-unit lint clean replica bench fuzz audit wheel-smoke soak

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

# Python: a venv with the exact versions of requirements.lock, then flasharb itself (editable).
$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

# Node: anvil, solcjs and the canonical protocol artifacts, exactly as package-lock.json says.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Everything stays inside this checkout: `flasharb setup --ape` finds the toolchain in
# ./node_modules, links anvil into .venv/bin and points py-solc-x / ape-solidity at the shim with
# SOLCX_BINARY_PATH (a .pth file in .venv); no link in ~/.solcx that another checkout re-points.
setup: $(STAMP) $(NODE_STAMP)  ## install pinned Python + node toolchains, the solc shim, anvil on PATH
	@$(VENV)/bin/flasharb setup --ape >/dev/null
	@ln -sfn $(CURDIR)/tools/solc/solc $(VENV)/bin/solc
	@$(VENV)/bin/anvil --version | head -1 | grep -q '1.7.1' || { echo "anvil 1.7.1 not runnable; rerun 'make setup'"; exit 1; }
	@$(VENV)/bin/solc --version | grep -q 'Version: 0.8.28' || { echo "solc shim broken; rerun 'make setup'"; exit 1; }

demo: setup  ## the whole flow on the replica: build, fork, deploy, shock, scan, execute, report
	$(VENV)/bin/flasharb demo

# Tests by tier, one folder each (tests/conftest.py marks them): tests/unit (no chain), tests/fork,
# tests/experiments, tests/audit. `make test` runs every tier; the others run one.
# `make test` runs on two pytest-xdist workers, a file per worker at a time (`--dist loadfile`:
# a module's fixtures are built once, and a file's tests run in its order); each worker has its
# own lab; tests/conftest.py adds up the workers' parity and audit counters for the summaries.
test: setup  ## every tier of the suite (tests/unit, fork, experiments, audit), against real Anvils
	@command -v chromium >/dev/null || apt-get install -y -q chromium >/dev/null 2>&1 \
	  || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
	  || echo "chromium (Debian apt) could not be installed: the report render tests will fail"
	$(PY) -m pytest -q -n 2 --dist loadfile

test-unit: setup  ## the chain-free tier, the fast loop: tests/unit without its one slow benchmark run
	$(PY) -m pytest -q -m "not slow" tests/unit

fuzz: setup  ## the diamond property fuzz at 10,000 cases (make test runs 1,000)
	FLASHARB_FUZZ_EXAMPLES=$${FLASHARB_FUZZ_EXAMPLES:-10000} $(PY) -m pytest -q -m fuzz tests/audit/test_fuzz_diamond.py

audit: setup  ## the audit tier: adversarial contract tests, Slither, the diamond fuzz; a summary
	$(PY) -m pytest -q tests/audit

replica: setup  ## build the replica state file
	$(VENV)/bin/flasharb replica build

bench: setup  ## the benchmarks in bench/, one table (figure, value, baseline, ratio)
	$(VENV)/bin/flasharb bench

soak: setup  ## issue 17's validation: 1,500+ trades across children, every row reconciled (not in test)
	$(PY) bench/soak.py $(SOAK_ARGS)

lint: setup  ## ruff
	$(PY) -m ruff check src tests scripts bench

wheel-smoke: setup  ## build the wheel, install it in a fresh venv outside the repo, run the flow there
	tools/ci/wheel_smoke.sh

clean:  ## remove build output and run state (keeps .venv and node_modules)
	rm -rf build reports .flasharb

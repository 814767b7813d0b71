# gridflow: `make demo` runs the pipeline on the local emulator, `make test` runs every test.
# Both create the virtualenv and install the pinned dependencies first; nothing else is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup demo test unit up fmt clean bench bench-meters

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/gridflow demo

test: setup checkov
	$(BIN)/python -m pytest

# checkov (static analysis of infra/) in its own virtualenv: its pins conflict with requirements.txt.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cksum < requirements-checkov.txt | cut -d' ' -f1)

.PHONY: checkov

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	@echo '*' > $(CHECKOV_VENV)/.gitignore  # git ignores the whole venv, as python >= 3.13's venv does
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@rm -f $(CHECKOV_VENV)/.installed-*
	@touch $(CHECKOV_STAMP)

checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml

unit: setup
	$(BIN)/python -m pytest tests/unit

up: setup
	$(BIN)/gridflow up

# Not part of `make test`: gridflow vs the limit vs the naive loader at 10^5..10^7 readings (BENCH_SIZES=...).
BENCH_STAMP := $(VENV)/.bench-$(shell cksum < requirements-bench.txt | cut -d' ' -f1)

$(BENCH_STAMP): requirements-bench.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	@rm -f $(VENV)/.bench-*
	@touch $(BENCH_STAMP)

bench: setup $(BENCH_STAMP)
	$(BIN)/python -m bench

bench-meters: setup $(BENCH_STAMP)
	$(BIN)/python -m bench.many_meters

fmt:
	terraform fmt -recursive infra

clean:
	rm -rf $(VENV) .gridflow .pytest_cache

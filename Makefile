# Two commands for a newcomer: `make demo` and `make test`. Both set up what they need, idempotently.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.condenser-setup
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup system-deps demo test lint bench-hotpotqa eval-mini help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv with the pinned CPU torch and every extra

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh $(VENV)
	@touch $@

system-deps:  ## redis-server and chromium from Debian, for the service and browser tests
	bash scripts/system-deps.sh

demo: setup  ## compress the bundled handbook against a question on the embedded default
	$(PY) -m condenser.demo

test: setup system-deps lint  ## lint, then run every test (slow ones need CONDENSER_SLOW=1)
	$(PY) -m pytest -q -p no:cacheprovider

lint: setup  ## ruff (pinned in pyproject.toml, so CI and a laptop agree)
	$(VENV)/bin/ruff check compressor retriever pipelines api evals condenser tests

bench-hotpotqa: setup  ## answer retention of every method on HotpotQA at 3x/5x/10x
	$(PY) -m evals.hotpotqa_retention

eval-mini: setup  ## a two-items-per-task LongBench run with the offline oracle reader
	$(VENV)/bin/condenser eval longbench --methods none,truncate,condenser --limit 2 --out runs/eval-mini

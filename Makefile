# Three commands do all the set-up on a fresh machine (Python 3.11+ with venv):
#   make demo   try it in a browser: a local Slack and a demo company, no Slack workspace needed
#   make run    run the bot (Socket Mode, SQLite) -- export SLACK_BOT_TOKEN and SLACK_APP_TOKEN first
#   make test   run the test suite (SQLite; also PostgreSQL when TEST_DATABASE_URL is set)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo run serve test lint bench install clean screenshots

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/throughline demo

run: $(STAMP)
	$(BIN)/throughline run

serve: $(STAMP)
	$(BIN)/throughline serve

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/check_sizes.py

bench: $(STAMP)
	$(BIN)/python -m bench

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

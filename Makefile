# Two commands for a new user: `make run` and `make test`. Everything else is internal.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SANDBOX_PORT ?= 8001
PORT ?= 8000

.PHONY: run test lint install clean messages dev-env

$(BIN)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else "goq-malls needs Python 3.13 or newer (see .python-version)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/.installed

## Write .env with fresh development keys, or add what a .env from before lacks (the
## new API's settings, Rakuten's sandbox URL); never overwrites anything.
dev-env: install
	@$(BIN)/python scripts/write_dev_env.py .env --sandbox-port $(SANDBOX_PORT)

## Serve the app with demo data on SQLite, offline, against the bundled sandbox on one
## port (MakeShop's legacy API and new API's GraphQL endpoint, and every other installed
## mall's stand-in: Rakuten RMS under /es/), with a background worker for jobs.
run: install dev-env messages
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo "Sandbox (MakeShop, Rakuten RMS): http://127.0.0.1:$(SANDBOX_PORT)   app: http://127.0.0.1:$(PORT)"
	@echo "Rakuten sandbox shops and keys: $(BIN)/python manage.py rakuten_sandbox --list"
	@echo "Install GoQ's MakeShop app in a demo shop (another terminal): $(BIN)/python manage.py makeshop_sandbox install-app --shop demo-app --app-url http://127.0.0.1:$(PORT)"
	@trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/python manage.py makeshop_sandbox --port $(SANDBOX_PORT) & \
	  MAKESHOP_API_BASE_URL=http://127.0.0.1:$(SANDBOX_PORT) \
	  RAKUTEN_API_BASE_URL=http://127.0.0.1:$(SANDBOX_PORT) \
	    $(BIN)/python manage.py db_worker & \
	  ( while sleep 60; do \
	      MAKESHOP_API_BASE_URL=http://127.0.0.1:$(SANDBOX_PORT) \
	      RAKUTEN_API_BASE_URL=http://127.0.0.1:$(SANDBOX_PORT) \
	        $(BIN)/python manage.py housekeeping >/dev/null; \
	      $(BIN)/python manage.py send_alerts >/dev/null; \
	    done ) & \
	  MAKESHOP_API_BASE_URL=http://127.0.0.1:$(SANDBOX_PORT) \
	  RAKUTEN_API_BASE_URL=http://127.0.0.1:$(SANDBOX_PORT) \
	    $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## Set up and run every test (SQLite unless DATABASE_URL says otherwise).
test: install
	./scripts/ensure_system_packages.sh
	$(MAKE) --no-print-directory messages
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m pytest

## Compile the Japanese translations (needs gettext's msgfmt).
messages: install
	@if command -v msgfmt >/dev/null; then \
	  $(BIN)/python manage.py compilemessages --ignore=.venv >/dev/null; \
	else echo "msgfmt not found: install gettext for the Japanese texts (apt-get install gettext)"; fi

## Style and layering: ruff, then the import contracts in .importlinter (no cache folder
## left behind; the graph takes a fraction of a second).
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache --no-logo

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles tests/artifacts

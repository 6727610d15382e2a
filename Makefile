# Frontdesk — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench soak clean browser postgresql dovecot

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

## make run: install, migrate the embedded SQLite database, load the demo, serve on $PORT (8000),
## the SMTP receiver on $FRONTDESK_SMTP_PORT (2525)
run: $(STAMP)
	FRONTDESK_SMTP_PORT=$${FRONTDESK_SMTP_PORT:-2525} $(BIN)/frontdesk serve --demo

## Debian's Chromium for the browser tests (installed when missing and we may: root, apt-get)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: browser tests will be skipped (apt-get install chromium)"; fi; }

## Debian's PostgreSQL for the suite's second pass (installed when missing and we may: root, apt-get).
## Only its programs are used: the tests start a throw-away cluster of their own on a free loopback port.
postgresql:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "PostgreSQL is missing: the PostgreSQL pass will be skipped (apt-get install postgresql)"; fi; }

## Debian's dovecot for the e-mail channels' IMAP tests (installed when missing and we may: root, apt-get).
## Only its programs are used: the tests start a throw-away server of their own on a free loopback port.
dovecot:
	@test -x /usr/sbin/dovecot || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; \
	  else echo "dovecot is missing: the IMAP tests will be skipped (apt-get install dovecot-imapd)"; fi; }

## make test: install, then lint, type-check and run every test twice, on SQLite and on PostgreSQL
## (side by side; logs in var/test-*.log). PYTEST_ARGS passes arguments to both, e.g. PYTEST_ARGS=tests/store
test: $(STAMP) browser postgresql dovecot
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/python -m tests.passes $(PYTEST_ARGS)

## make bench: fresh servers (bare baseline, Frontdesk, Node-RED from npm), every scenario, a report in
## bench/results/ (JSON + Markdown). BENCH_QUICK=1 runs a few seconds per scenario; BENCH_ARGS adds options.
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## make soak: the crash loop of `make test` (SIGKILL of server, worker or both under load), 15 rounds
soak: $(STAMP)
	CRASH_ROUNDS=15 $(BIN)/pytest tests/engine/test_crash_loop.py -q

lint: $(STAMP)
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache

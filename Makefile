# Segue: `make run` starts Segue on its embedded defaults, `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_CLIENT := tests/e2e/node
NODE_BROWSER := tests/device/node

.PHONY: install run test bench node-deps clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install  ## run Segue (Tracking API on http://127.0.0.1:8088, data in ./segue-data)
	SEGUE_ALLOW_PRIVATE_DESTINATIONS=1 $(BIN)/segue serve

node-deps:  ## the official Node client and browser library for the tests (skipped when npm is absent)
	@if command -v npm >/dev/null 2>&1; then \
		for dir in $(NODE_CLIENT) $(NODE_BROWSER); do \
			if [ -f $$dir/package.json ]; then npm ci --silent --no-audit --no-fund --prefix $$dir || exit 1; fi; \
		done; \
	else echo "npm not found: the Node client and analytics-next tests will be skipped"; fi

test: install node-deps  ## run the whole test suite
	$(BIN)/pytest

bench: install  ## run the benchmarks and print their tables
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.delivery

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis $(NODE_CLIENT)/node_modules $(NODE_BROWSER)/node_modules

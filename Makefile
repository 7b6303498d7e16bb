# The two commands of the README: `make run` (install + start on embedded defaults) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The chart page's front-end packages (lightweight-charts) come from npm, pinned by the lock file.
WEB := indicator_server/web
WEB_STAMP := $(WEB)/node_modules/.installed

.PHONY: install run test lint bench browser screenshot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

install: $(STAMP) $(WEB_STAMP)

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; never `playwright install`).
# Installed when this runs as root with apt-get; otherwise the browser tests say why they skip (and fail in CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else echo "chromium is not installed (apt-get install chromium): the browser tests will skip"; fi; }

run: install
	$(BIN)/indicator-server serve

lint: install
	$(BIN)/ruff check .

test: install browser lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: install
	$(BIN)/python -m benchmarks.bench_overlays_http
	$(BIN)/python -m benchmarks.bench_liquidations

clean:
	rm -rf $(VENV) instance .pytest_cache $(WEB)/node_modules

# The two commands: `make run` serves the Changle demo, `make test` runs the suite.
# Both install what is missing first (Debian packages as root or with sudo, then a virtualenv).

DEBIAN_PACKAGES := postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting gdal-bin python3-venv chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTHON := $(shell command -v python3.11 || command -v python3)
VENV := .venv
FUGONG := $(VENV)/bin/fugong
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1  # the tests drive Debian's chromium

.PHONY: run test deps system lint clean-db bench assets

run: deps
	$(FUGONG) migrate
	$(FUGONG) reassess
	$(FUGONG) seed --if-empty
	$(FUGONG) serve

test: deps
	$(VENV)/bin/pytest

deps: system $(VENV)/.installed

system:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

# The pages' browser libraries (api/static/vendor, committed): npm installs the versions of
# assets/package-lock.json, vendor.py copies their built files and licences and checks sums.
assets:
	cd assets && npm ci --ignore-scripts --no-audit --no-fund
	$(PYTHON) assets/vendor.py
	git diff --stat -- api/static/vendor

lint: deps
	$(VENV)/bin/ruff check api schema geo migrations tests bench

$(VENV)/.bench-installed: $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[test,bench]'
	touch $@

# Throughput against raw SQL and PostGraphile (needs wrk and Node 20; see BENCHMARKS.md).
bench: deps $(VENV)/.bench-installed
	@dpkg -s wrk >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(FUGONG) db start
	$(VENV)/bin/python -m bench.harness $(BENCH_ARGS)

clean-db:
	-$(FUGONG) db stop
	rm -rf .pgdata
